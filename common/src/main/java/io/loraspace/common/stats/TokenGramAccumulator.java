package io.loraspace.common.stats;

import io.loraspace.common.linalg.DenseMatrix;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;

/**
 * Token-level statistics of one capture site: token Gram {@code T = Σ_tokens x xᵀ} (d×d), token sum {@code Σ x} (d)
 * and token count, all in float64 (METHODS.md "Statistics").
 *
 * <p>Updates take row-major T×d blocks; a row-major T×d block is a column-major d×T matrix X, so {@code T += X Xᵀ} is
 * one BLAS {@code dsyrk} on the block as it lies in memory (no copy, no per-row rank-1 updates). Only the upper
 * triangle of the Gram is stored; {@link #gram()} returns the full symmetric matrix.
 */
public final class TokenGramAccumulator implements Accumulator {
  private static final long serialVersionUID = 1L;

  private final int dim;
  /** Upper triangle of Σ x xᵀ, column-major d×d; strict lower triangle zero. */
  private final double[] gramUpper;
  private final double[] tokenSum;
  private long tokenCount;

  /** An empty accumulator for d-dimensional tokens (d ≥ 1). */
  public TokenGramAccumulator(int dim) {
    StatsKernels.checkDim("Token Gram dimension", dim);
    this.dim = dim;
    this.gramUpper = new double[Math.multiplyExact(dim, dim)];
    this.tokenSum = new double[dim];
  }

  /** Restores a deserialized state; takes ownership of the arrays (used by {@link AccumulatorFormat}). */
  static TokenGramAccumulator restore(int dim, long tokenCount, double[] tokenSum, double[] gramUpper) {
    TokenGramAccumulator a = new TokenGramAccumulator(dim, gramUpper, tokenSum);
    a.tokenCount = tokenCount;
    return a;
  }

  private TokenGramAccumulator(int dim, double[] gramUpper, double[] tokenSum) {
    this.dim = dim;
    this.gramUpper = gramUpper;
    this.tokenSum = tokenSum;
  }

  /**
   * Adds {@code rows} tokens: the row-major rows×d block {@code block[offset .. offset + rows*d)} (token t, dim j at
   * {@code offset + t*d + j}). The block is not modified. {@code rows} may be 0. Allocates nothing.
   */
  public void update(double[] block, int offset, int rows) {
    StatsKernels.checkBlock("Token block", block, offset, rows, dim);
    StatsKernels.syrkUpper(block, offset, dim, rows, gramUpper);
    StatsKernels.addColumnSums(block, offset, rows, dim, tokenSum, 0);
    tokenCount += rows;
  }

  /** {@link #update(double[], int, int)} with the block at offset 0. */
  public void update(double[] block, int rows) {
    update(block, 0, rows);
  }

  @Override
  public void merge(Accumulator other) {
    StatsKernels.checkMergeable(this, other);
    TokenGramAccumulator o = (TokenGramAccumulator) other;
    StatsKernels.addUpper(o.gramUpper, gramUpper, dim);
    StatsKernels.addVector(o.tokenSum, tokenSum, dim);
    tokenCount = Math.addExact(tokenCount, o.tokenCount);
  }

  @Override
  public TokenGramAccumulator copy() {
    return restore(dim, tokenCount, tokenSum.clone(), gramUpper.clone());
  }

  @Override
  public AccumulatorKind kind() {
    return AccumulatorKind.TOKEN_GRAM;
  }

  @Override
  public int rows() {
    return dim;
  }

  @Override
  public int cols() {
    return dim;
  }

  /** Token dimension d. */
  public int dim() {
    return dim;
  }

  /** Number of tokens added. */
  public long tokenCount() {
    return tokenCount;
  }

  /** A copy of {@code Σ x} (length d). */
  public double[] tokenSum() {
    return tokenSum.clone();
  }

  /** A new full symmetric d×d matrix holding {@code Σ x xᵀ}. */
  public DenseMatrix gram() {
    return StatsKernels.fullSymmetric(gramUpper, dim);
  }

  /** The internal upper-triangle array, read-only by contract (for the byte writer). */
  double[] gramUpperView() {
    return gramUpper;
  }

  double[] tokenSumView() {
    return tokenSum;
  }

  private Object writeReplace() {
    return new SerializedAccumulator(AccumulatorFormat.write(this));
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException("TokenGramAccumulator is serialized through its byte format (proxy expected)");
  }

  @Override
  public String toString() {
    return "TokenGramAccumulator[d=" + dim + ", tokens=" + tokenCount + "]";
  }

  /**
   * Adds a serialized partial's counts; its arrays are added by {@link AccumulatorFormat#mergeInto} straight into
   * {@link #sumArray()} and {@link #gramArray()}, the same additions {@link #merge} makes with a read-back copy.
   */
  void addCounts(long tokens) {
    tokenCount = Math.addExact(tokenCount, tokens);
  }

  double[] sumArray() {
    return tokenSum;
  }

  double[] gramArray() {
    return gramUpper;
  }
}
