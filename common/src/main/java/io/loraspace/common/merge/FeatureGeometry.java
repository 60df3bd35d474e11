package io.loraspace.common.merge;

import io.loraspace.common.error.StateException;
import java.io.Serializable;
import java.util.Arrays;

/**
 * What the data says about the assumptions of Theorem 3.3 (METHODS.md), per dataset: the smallest and largest feature
 * norm (the theory assumes unit norm) and, per component c of a {@link HeadDecomposition}, the largest
 * {@code ‖comp_c x‖ / ‖x‖} over the dataset's samples. Under the theory's orthogonality assumptions the pre-trained
 * head sees nothing of a fine-tuning task's features and adapter i sees nothing of any other dataset, so those
 * entries are 0; dividing by the component's Frobenius norm gives a leakage in [0, 1].
 *
 * <p>State is minima and maxima only: {@link #merge} is exact in any order. {@link #update} allocates nothing.
 */
public final class FeatureGeometry implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int classes;
  private final int components;
  private final int datasets;
  private final double[] minNorm;
  private final double[] maxNorm;
  private final double[] maxGain;

  public FeatureGeometry(int classes, int components, int datasets) {
    this.classes = classes;
    this.components = components;
    this.datasets = datasets;
    this.minNorm = new double[datasets];
    Arrays.fill(minNorm, Double.POSITIVE_INFINITY);
    this.maxNorm = new double[datasets];
    this.maxGain = new double[datasets * components];
  }

  /**
   * Adds one sample of {@code dataset}: its features {@code x[xOff .. xOff+dim)} and component logits
   * {@code comps[off .. off + components·K)}.
   */
  public void update(int dataset, double[] x, int xOff, int dim, double[] comps, int off) {
    double nx = 0;
    for (int j = 0; j < dim; j++) {
      nx += x[xOff + j] * x[xOff + j];
    }
    nx = Math.sqrt(nx);
    minNorm[dataset] = Math.min(minNorm[dataset], nx);
    maxNorm[dataset] = Math.max(maxNorm[dataset], nx);
    if (nx == 0) {
      return;
    }
    for (int c = 0; c < components; c++) {
      double s = 0;
      int base = off + c * classes;
      for (int k = 0; k < classes; k++) {
        s += comps[base + k] * comps[base + k];
      }
      int at = dataset * components + c;
      maxGain[at] = Math.max(maxGain[at], Math.sqrt(s) / nx);
    }
  }

  /** Folds {@code other} (same shape) into this; changes only this. */
  public FeatureGeometry merge(FeatureGeometry other) {
    if (other.classes != classes || other.components != components || other.datasets != datasets) {
      throw new StateException("Cannot merge FeatureGeometry of " + other.datasets + " datasets × "
          + other.components + " components into one of " + datasets + " × " + components);
    }
    for (int d = 0; d < datasets; d++) {
      minNorm[d] = Math.min(minNorm[d], other.minNorm[d]);
      maxNorm[d] = Math.max(maxNorm[d], other.maxNorm[d]);
    }
    for (int i = 0; i < maxGain.length; i++) {
      maxGain[i] = Math.max(maxGain[i], other.maxGain[i]);
    }
    return this;
  }

  /** Smallest ‖x‖ of the dataset (+∞ when empty). */
  public double minNorm(int d) {
    return minNorm[d];
  }

  /** Largest ‖x‖ of the dataset (0 when empty). */
  public double maxNorm(int d) {
    return maxNorm[d];
  }

  /** {@code max_x ‖comp_c x‖ / ‖x‖} over the dataset's non-zero samples. */
  public double maxGain(int d, int c) {
    return maxGain[d * components + c];
  }
}
