package io.loraspace.common.stats;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;

/**
 * Gradient/input cross products of one linear module (METHODS.md "Statistics"): {@code C = Σ_tokens g xᵀ} (out×in,
 * column-major), where g are the module's output gradients and x its inputs on the same tokens, with token and sample
 * counts, so that the mean per-sample gradient {@code Ḡ = C / n_s} can be formed.
 *
 * <p>Updates take a row-major T×out gradient block and a row-major T×in input block of the same T tokens; read
 * column-major they are G (out×T) and X (in×T), and {@code C += G Xᵀ} is one BLAS {@code dgemm} on the blocks as they
 * lie in memory.
 */
public final class CrossProductAccumulator implements Accumulator {
  private static final long serialVersionUID = 1L;

  private final int outDim;
  private final int inDim;
  /** Σ g xᵀ, column-major out×in. */
  private final double[] cross;
  private long tokenCount;
  private long sampleCount;

  /** An empty accumulator for a module with {@code outDim} outputs and {@code inDim} inputs (both ≥ 1). */
  public CrossProductAccumulator(int outDim, int inDim) {
    StatsKernels.checkDim("Cross product output dimension", outDim);
    StatsKernels.checkDim("Cross product input dimension", inDim);
    this.outDim = outDim;
    this.inDim = inDim;
    this.cross = new double[Math.multiplyExact(outDim, inDim)];
  }

  /** Restores a deserialized state; takes ownership of the array. */
  static CrossProductAccumulator restore(int outDim, int inDim, long tokenCount, long sampleCount, double[] cross) {
    CrossProductAccumulator a = new CrossProductAccumulator(outDim, inDim, cross);
    a.tokenCount = tokenCount;
    a.sampleCount = sampleCount;
    return a;
  }

  private CrossProductAccumulator(int outDim, int inDim, double[] cross) {
    this.outDim = outDim;
    this.inDim = inDim;
    this.cross = cross;
  }

  /**
   * Adds {@code rows} tokens: gradients {@code g[gOffset + t*out + i]} and inputs {@code x[xOffset + t*in + j]} of the
   * same token t. Neither block is modified. Counts tokens only (see {@link #updateSample} and {@link #addSamples}).
   * {@code rows} may be 0. Allocates nothing.
   */
  public void update(double[] g, int gOffset, double[] x, int xOffset, int rows) {
    StatsKernels.checkBlock("Gradient block", g, gOffset, rows, outDim);
    StatsKernels.checkBlock("Input block", x, xOffset, rows, inDim);
    if (rows > 0) {
      // Naive loop (reference):
      // for (int t = 0; t < rows; t++)
      //   for (int j = 0; j < inDim; j++)
      //     for (int i = 0; i < outDim; i++)
      //       cross[i + j * outDim] += g[gOffset + t * outDim + i] * x[xOffset + t * inDim + j];
      Blas.blas().dgemm("N", "T", outDim, inDim, rows, 1.0, g, gOffset, outDim, x, xOffset, inDim, 1.0, cross, 0,
          outDim);
    }
    tokenCount += rows;
  }

  /** {@link #update} for blocks that hold all tokens of exactly one sample: also counts one sample. */
  public void updateSample(double[] g, int gOffset, double[] x, int xOffset, int rows) {
    update(g, gOffset, x, xOffset, rows);
    sampleCount++;
  }

  /** Counts {@code samples} (≥ 0) more samples whose tokens were (or will be) added with {@link #update}. */
  public void addSamples(long samples) {
    if (samples < 0) {
      throw new ArgumentException("Sample count to add must be >= 0, got " + samples);
    }
    sampleCount = Math.addExact(sampleCount, samples);
  }

  @Override
  public void merge(Accumulator other) {
    StatsKernels.checkMergeable(this, other);
    CrossProductAccumulator o = (CrossProductAccumulator) other;
    StatsKernels.addVector(o.cross, cross, cross.length);
    tokenCount = Math.addExact(tokenCount, o.tokenCount);
    sampleCount = Math.addExact(sampleCount, o.sampleCount);
  }

  @Override
  public CrossProductAccumulator copy() {
    return restore(outDim, inDim, tokenCount, sampleCount, cross.clone());
  }

  @Override
  public AccumulatorKind kind() {
    return AccumulatorKind.CROSS_PRODUCT;
  }

  @Override
  public int rows() {
    return outDim;
  }

  @Override
  public int cols() {
    return inDim;
  }

  public int outDim() {
    return outDim;
  }

  public int inDim() {
    return inDim;
  }

  public long tokenCount() {
    return tokenCount;
  }

  public long sampleCount() {
    return sampleCount;
  }

  /** A new out×in matrix holding {@code Σ g xᵀ}. */
  public DenseMatrix crossProduct() {
    return DenseMatrix.wrap(outDim, inDim, cross.clone());
  }

  double[] crossView() {
    return cross;
  }

  private Object writeReplace() {
    return new SerializedAccumulator(AccumulatorFormat.write(this));
  }

  private void readObject(ObjectInputStream in) throws InvalidObjectException {
    throw new InvalidObjectException("CrossProductAccumulator is serialized through its byte format (proxy expected)");
  }

  @Override
  public String toString() {
    return "CrossProductAccumulator[" + outDim + "×" + inDim + ", tokens=" + tokenCount + ", samples=" + sampleCount
        + "]";
  }

  /** Adds a serialized partial's counts; {@link AccumulatorFormat#mergeInto} adds its products to {@link #array()}. */
  void addCounts(long tokens, long samples) {
    tokenCount = Math.addExact(tokenCount, tokens);
    sampleCount = Math.addExact(sampleCount, samples);
  }

  double[] array() {
    return cross;
  }
}
