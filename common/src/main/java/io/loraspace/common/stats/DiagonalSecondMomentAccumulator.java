package io.loraspace.common.stats;

import java.io.InvalidObjectException;
import java.io.ObjectInputStream;

/**
 * Diagonal second moments of a module's output gradients (METHODS.md "Statistics", the K-FAC output factor's
 * diagonal for LoRA-DA): {@code Σ_tokens g∘g} (length out) and the token count.
 */
public final class DiagonalSecondMomentAccumulator implements Accumulator {
  private static final long serialVersionUID = 1L;

  private final int dim;
  private final double[] sumSquares;
  private long tokenCount;

  /** An empty accumulator for gradients of length {@code dim} ≥ 1. */
  public DiagonalSecondMomentAccumulator(int dim) {
    StatsKernels.checkDim("Diagonal second moment dimension", dim);
    this.dim = dim;
    this.sumSquares = new double[dim];
  }

  /** Restores a deserialized state; takes ownership of the array. */
  static DiagonalSecondMomentAccumulator restore(int dim, long tokenCount, double[] sumSquares) {
    DiagonalSecondMomentAccumulator a = new DiagonalSecondMomentAccumulator(dim, sumSquares);
    a.tokenCount = tokenCount;
    return a;
  }

  private DiagonalSecondMomentAccumulator(int dim, double[] sumSquares) {
    this.dim = dim;
    this.sumSquares = sumSquares;
  }

  /**
   * Adds {@code rows} gradient rows from the row-major rows×d block {@code g[offset ..)}; the block is not modified.
   * {@code rows} may be 0. Allocates nothing. (An elementwise pass: memory-bound, so a plain loop, which the JIT
   * vectorizes, is as fast as any BLAS call would be.)
   */
  public void update(double[] g, int offset, int rows) {
    StatsKernels.checkBlock("Gradient block", g, offset, rows, dim);
    for (int t = 0; t < rows; t++) {
      int row = offset + t * dim;
      for (int j = 0; j < dim; j++) {
        double v = g[row + j];
        sumSquares[j] += v * v;
      }
    }
    tokenCount += rows;
  }

  @Override
  public void merge(Accumulator other) {
    StatsKernels.checkMergeable(this, other);
    DiagonalSecondMomentAccumulator o = (DiagonalSecondMomentAccumulator) other;
    StatsKernels.addVector(o.sumSquares, sumSquares, dim);
    tokenCount = Math.addExact(tokenCount, o.tokenCount);
  }

  @Override
  public DiagonalSecondMomentAccumulator copy() {
    return restore(dim, tokenCount, sumSquares.clone());
  }

  @Override
  public AccumulatorKind kind() {
    return AccumulatorKind.DIAGONAL_SECOND_MOMENT;
  }

  @Override
  public int rows() {
    return dim;
  }

  @Override
  public int cols() {
    return 1;
  }

  public int dim() {
    return dim;
  }

  public long tokenCount() {
    return tokenCount;
  }

  /** A copy of {@code Σ g∘g} (length d). */
  public double[] sumSquares() {
    return sumSquares.clone();
  }

  double[] sumSquaresView() {
    return sumSquares;
  }

  private Object writeReplace() {
    return new SerializedAccumulator(AccumulatorFormat.write(this));
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException(
        "DiagonalSecondMomentAccumulator is serialized through its byte format (proxy expected)");
  }

  @Override
  public String toString() {
    return "DiagonalSecondMomentAccumulator[d=" + dim + ", tokens=" + tokenCount + "]";
  }

  /** Adds a serialized partial's count; {@link AccumulatorFormat#mergeInto} adds its squares to {@link #array()}. */
  void addCounts(long tokens) {
    tokenCount = Math.addExact(tokenCount, tokens);
  }

  double[] array() {
    return sumSquares;
  }
}
