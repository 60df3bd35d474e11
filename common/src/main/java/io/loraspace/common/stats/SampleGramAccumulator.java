package io.loraspace.common.stats;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;

/**
 * Sample-level statistics of one capture site (METHODS.md "Statistics", used by SC-LoRA): with per-sample sums
 * {@code x̂_s = Σ_{tokens of s} x} and token counts {@code T_s},
 * <ul>
 *   <li>sample Gram {@code S = Σ_s x̂_s x̂_sᵀ} (d×d),
 *   <li>bias terms {@code u = Σ_s T_s x̂_s} (d) and {@code Σ_s T_s²},
 *   <li>sample sum {@code Σ_s x̂_s} (d), sample count {@code n_s} and token count {@code Σ_s T_s}.
 * </ul>
 *
 * <p>Per-sample sums are batched as columns of a d×B buffer (B = the batch size option) and folded into S with one
 * BLAS {@code dsyrk} per full batch, never with per-sample rank-1 updates. The buffer is allocated on first use and
 * reused; {@code addSample*} allocate nothing afterwards.
 *
 * <p><b>Pending batch.</b> The vectors, scalars and counts are updated immediately; only S has a pending part (the
 * buffered columns). Reads and serialization never flush: {@link #gram()} and the byte writer compute
 * {@code S_flushed + P Pᵀ} into a fresh copy, so a read changes nothing inside the accumulator and later results are
 * bit-for-bit the same whether or not anything was read. {@link #merge} adds the other side's flushed S and appends
 * its pending columns to this buffer (flushing this buffer whenever it fills), leaving {@code other} untouched.
 * Deserialized accumulators have an empty buffer.
 */
public final class SampleGramAccumulator implements Accumulator {
  private static final long serialVersionUID = 1L;

  private final int dim;
  private final int batchSize;
  /** Upper triangle of the flushed part of S, column-major d×d; strict lower triangle zero. */
  private final double[] gramUpper;
  private final double[] sampleSum;
  private final double[] tokenWeightedSum;
  private double sumTokensSquared;
  private long sampleCount;
  private long tokenCount;
  /** d×batchSize column-major buffer of pending per-sample sums; null until first needed. */
  private double[] pending;
  private int pendingCount;

  /**
   * An empty accumulator.
   *
   * @param dim token dimension d ≥ 1
   * @param batchSize number of per-sample sums buffered before one {@code dsyrk} (≥ 1); the buffer holds d×batchSize
   *     doubles. It changes only speed and the rounding order, not the statistics.
   */
  public SampleGramAccumulator(int dim, int batchSize) {
    StatsKernels.checkDim("Sample Gram dimension", dim);
    if (batchSize < 1) {
      throw new ArgumentException("Sample Gram batch size must be >= 1, got " + batchSize);
    }
    if ((long) dim * batchSize > Integer.MAX_VALUE) {
      throw new ArgumentException("Sample Gram buffer of d×B = " + dim + "×" + batchSize + " exceeds 2^31-1 values");
    }
    this.dim = dim;
    this.batchSize = batchSize;
    this.gramUpper = new double[Math.multiplyExact(dim, dim)];
    this.sampleSum = new double[dim];
    this.tokenWeightedSum = new double[dim];
  }

  /** Restores a deserialized state (empty pending buffer); takes ownership of the arrays. */
  static SampleGramAccumulator restore(
      int dim, int batchSize, long sampleCount, long tokenCount, double sumTokensSquared, double[] sampleSum,
      double[] tokenWeightedSum, double[] gramUpper) {
    SampleGramAccumulator a = new SampleGramAccumulator(dim, batchSize, gramUpper, sampleSum, tokenWeightedSum);
    a.sampleCount = sampleCount;
    a.tokenCount = tokenCount;
    a.sumTokensSquared = sumTokensSquared;
    return a;
  }

  private SampleGramAccumulator(
      int dim, int batchSize, double[] gramUpper, double[] sampleSum, double[] tokenWeightedSum) {
    this.dim = dim;
    this.batchSize = batchSize;
    this.gramUpper = gramUpper;
    this.sampleSum = sampleSum;
    this.tokenWeightedSum = tokenWeightedSum;
  }

  /**
   * Adds one sample given by its per-sample sum {@code x̂ = sum[offset .. offset+d)} over {@code tokens} tokens.
   * {@code sum} is not modified. Allocates nothing once the buffer exists.
   */
  public void addSample(double[] sum, int offset, long tokens) {
    StatsKernels.checkBlock("Sample sum", sum, offset, 1, dim);
    checkTokens(tokens);
    int col = nextColumn();
    System.arraycopy(sum, offset, pending, col * dim, dim);
    accept(col, tokens);
  }

  /**
   * Adds one sample given by all its tokens: the row-major rows×d block {@code block[offset ..)}; {@code x̂} is the
   * column sum of the block and {@code T_s = rows}. {@code rows} may be 0 (a sample with no tokens still counts as a
   * sample). The block is not modified. Allocates nothing once the buffer exists.
   */
  public void addSampleTokens(double[] block, int offset, int rows) {
    StatsKernels.checkBlock("Sample token block", block, offset, rows, dim);
    int col = nextColumn();
    int base = col * dim;
    for (int j = 0; j < dim; j++) {
      pending[base + j] = 0.0;
    }
    StatsKernels.addColumnSums(block, offset, rows, dim, pending, base);
    accept(col, rows);
  }

  private static void checkTokens(long tokens) {
    if (tokens < 0) {
      throw new ArgumentException("Sample token count must be >= 0, got " + tokens);
    }
  }

  /** Index of the buffer column to fill, flushing a full buffer first. */
  private int nextColumn() {
    if (pending == null) {
      pending = new double[dim * batchSize];
    }
    if (pendingCount == batchSize) {
      flush();
    }
    return pendingCount;
  }

  /** Updates vectors and counts from the freshly written buffer column and marks it pending. */
  private void accept(int col, long tokens) {
    int base = col * dim;
    double w = tokens;
    for (int j = 0; j < dim; j++) {
      double v = pending[base + j];
      sampleSum[j] += v;
      tokenWeightedSum[j] += w * v;
    }
    sumTokensSquared += w * w;
    sampleCount++;
    tokenCount = Math.addExact(tokenCount, tokens);
    pendingCount++;
  }

  private void flush() {
    StatsKernels.syrkUpper(pending, 0, dim, pendingCount, gramUpper);
    pendingCount = 0;
  }

  @Override
  public void merge(Accumulator other) {
    StatsKernels.checkMergeable(this, other);
    SampleGramAccumulator o = other == this ? copy() : (SampleGramAccumulator) other;
    StatsKernels.addUpper(o.gramUpper, gramUpper, dim);
    StatsKernels.addVector(o.sampleSum, sampleSum, dim);
    StatsKernels.addVector(o.tokenWeightedSum, tokenWeightedSum, dim);
    sumTokensSquared += o.sumTokensSquared;
    sampleCount = Math.addExact(sampleCount, o.sampleCount);
    tokenCount = Math.addExact(tokenCount, o.tokenCount);
    for (int c = 0; c < o.pendingCount; c++) {
      int col = nextColumn();
      System.arraycopy(o.pending, c * dim, pending, col * dim, dim);
      pendingCount++;
    }
  }

  /** A deep copy, pending buffer included (so the copy's future rounding matches this one's). */
  @Override
  public SampleGramAccumulator copy() {
    SampleGramAccumulator c = restore(dim, batchSize, sampleCount, tokenCount, sumTokensSquared, sampleSum.clone(),
        tokenWeightedSum.clone(), gramUpper.clone());
    if (pending != null) {
      c.pending = pending.clone();
      c.pendingCount = pendingCount;
    }
    return c;
  }

  @Override
  public AccumulatorKind kind() {
    return AccumulatorKind.SAMPLE_GRAM;
  }

  @Override
  public int rows() {
    return dim;
  }

  @Override
  public int cols() {
    return dim;
  }

  public int dim() {
    return dim;
  }

  /** The batch size option this accumulator was built with. */
  public int batchSize() {
    return batchSize;
  }

  /** Number of samples {@code n_s}. */
  public long sampleCount() {
    return sampleCount;
  }

  /** Total tokens {@code Σ_s T_s}. */
  public long tokenCount() {
    return tokenCount;
  }

  /** {@code Σ_s T_s²}. */
  public double sumTokensSquared() {
    return sumTokensSquared;
  }

  /** A copy of {@code Σ_s x̂_s} (length d). */
  public double[] sampleSum() {
    return sampleSum.clone();
  }

  /** A copy of the bias term {@code u = Σ_s T_s x̂_s} (length d). */
  public double[] tokenWeightedSampleSum() {
    return tokenWeightedSum.clone();
  }

  /** A new full symmetric d×d matrix holding {@code S = Σ_s x̂_s x̂_sᵀ}, pending samples included; no state changes. */
  public DenseMatrix gram() {
    return StatsKernels.fullSymmetric(flushedUpperCopy(), dim);
  }

  /** A fresh d×d array: the upper triangle of S with the pending batch applied; {@code this} is not modified. */
  double[] flushedUpperCopy() {
    double[] copy = gramUpper.clone();
    if (pendingCount > 0) {
      StatsKernels.syrkUpper(pending, 0, dim, pendingCount, copy);
    }
    return copy;
  }

  double[] sampleSumView() {
    return sampleSum;
  }

  double[] tokenWeightedSumView() {
    return tokenWeightedSum;
  }

  private Object writeReplace() {
    return new SerializedAccumulator(AccumulatorFormat.write(this));
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException("SampleGramAccumulator is serialized through its byte format (proxy expected)");
  }

  @Override
  public String toString() {
    return "SampleGramAccumulator[d=" + dim + ", samples=" + sampleCount + ", tokens=" + tokenCount + "]";
  }

  /**
   * Adds a serialized partial's scalars; its arrays (flushed S, sums) are added by {@link AccumulatorFormat#mergeInto}
   * straight into the arrays below, as {@link #merge} adds a read-back copy's, whose pending buffer is empty.
   */
  void addScalars(long samples, long tokens, double tokensSquared) {
    sumTokensSquared += tokensSquared;
    sampleCount = Math.addExact(sampleCount, samples);
    tokenCount = Math.addExact(tokenCount, tokens);
  }

  double[] sampleSumArray() {
    return sampleSum;
  }

  double[] weightedSumArray() {
    return tokenWeightedSum;
  }

  double[] gramArray() {
    return gramUpper;
  }
}
