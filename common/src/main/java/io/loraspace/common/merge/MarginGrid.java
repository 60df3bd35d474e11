package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.io.Serializable;
import java.util.Arrays;

/**
 * Margins and accuracies of many merged heads on several datasets, in one pass over the samples: per (point, dataset)
 * the unnormalized multiclass margin {@code C(W; D) = min_{(x,y)∈D} (z_y − max_{k≠y} z_k)} with z = W x (competitors:
 * all K rows of the head), the sample attaining it, and the number of samples with margin &gt; 0 (correctly
 * classified; a tie counts as wrong).
 *
 * <p>A point is a coefficient vector over the components of a {@link HeadDecomposition} (length N+1); each sample comes
 * as its components' logits ({@link HeadDecomposition#project}), so the logits of point p are
 * {@code Σ_c coeff[p][c]·comps[c]}. Every sample evaluates every point.
 *
 * <p>State is a minimum (ties broken by the smaller sample key) and exact counts, so {@link #merge} is associative
 * and commutative exactly, not only up to rounding: partial results merged in any order give identical values.
 * {@link #update} allocates nothing.
 */
public final class MarginGrid implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int classes;
  private final int components;
  private final int datasets;
  private final int points;
  private final double[] coefficients;
  private final double[] minMargin;
  private final long[] argmin;
  private final long[] correct;
  private final long[] count;
  private transient double[] logits;

  /**
   * @param coefficients points×components row-major: point p's coefficient of component c at {@code p·components+c}
   */
  public MarginGrid(int classes, int components, int datasets, double[] coefficients) {
    if (classes < 2 || components < 1 || datasets < 1 || coefficients.length % components != 0) {
      throw new ArgumentException("MarginGrid: classes " + classes + " (≥ 2), components " + components
          + " (≥ 1), datasets " + datasets + " (≥ 1), " + coefficients.length + " coefficients (a multiple of "
          + components + ")");
    }
    this.classes = classes;
    this.components = components;
    this.datasets = datasets;
    this.points = coefficients.length / components;
    this.coefficients = coefficients.clone();
    this.minMargin = new double[points * datasets];
    Arrays.fill(minMargin, Double.POSITIVE_INFINITY);
    this.argmin = new long[points * datasets];
    Arrays.fill(argmin, -1);
    this.correct = new long[points * datasets];
    this.count = new long[datasets];
  }

  /**
   * Adds one sample of {@code dataset} with label {@code label} (in [0, K)), whose component logits are
   * {@code comps[off .. off + components·K)}; {@code key} (≥ 0) identifies the sample for {@link #argmin}.
   */
  public void update(int dataset, int label, double[] comps, int off, long key) {
    if (label < 0 || label >= classes) {
      throw new ArgumentException("Label " + label + " is outside the head's classes [0, " + classes + ")");
    }
    if (logits == null) {
      logits = new double[classes];
    }
    count[dataset]++;
    for (int p = 0; p < points; p++) {
      int cb = p * components;
      for (int k = 0; k < classes; k++) {
        logits[k] = 0;
      }
      for (int c = 0; c < components; c++) {
        double w = coefficients[cb + c];
        if (w != 0) {
          int base = off + c * classes;
          for (int k = 0; k < classes; k++) {
            logits[k] += w * comps[base + k];
          }
        }
      }
      double best = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < classes; k++) {
        if (k != label && logits[k] > best) {
          best = logits[k];
        }
      }
      double m = logits[label] - best;
      int at = p * datasets + dataset;
      if (m > 0) {
        correct[at]++;
      }
      if (m < minMargin[at] || (m == minMargin[at] && key < argmin[at])) {
        minMargin[at] = m;
        argmin[at] = key;
      }
    }
  }

  /** Folds {@code other} (same shape and points) into this; changes only this. */
  public MarginGrid merge(MarginGrid other) {
    if (other.classes != classes || other.components != components || other.datasets != datasets
        || !Arrays.equals(other.coefficients, coefficients)) {
      throw new StateException("Cannot merge MarginGrid of " + other.points + " points × " + other.datasets
          + " datasets (K " + other.classes + ") into one of " + points + " × " + datasets + " (K " + classes
          + ") or with other coefficients");
    }
    for (int i = 0; i < minMargin.length; i++) {
      double m = other.minMargin[i];
      if (m < minMargin[i] || (m == minMargin[i] && other.argmin[i] >= 0
          && (argmin[i] < 0 || other.argmin[i] < argmin[i]))) {
        minMargin[i] = m;
        argmin[i] = other.argmin[i];
      }
      correct[i] += other.correct[i];
    }
    for (int d = 0; d < datasets; d++) {
      count[d] += other.count[d];
    }
    return this;
  }

  public int points() {
    return points;
  }

  public int datasets() {
    return datasets;
  }

  public int components() {
    return components;
  }

  /** Point p's coefficients (a copy). */
  public double[] coefficients(int p) {
    return Arrays.copyOfRange(coefficients, p * components, (p + 1) * components);
  }

  /** {@code C(W_p; D_d)}; +∞ when the dataset had no samples. */
  public double margin(int p, int d) {
    return minMargin[p * datasets + d];
  }

  /** The key of the sample attaining {@link #margin}, or -1 when the dataset had no samples. */
  public long argmin(int p, int d) {
    return argmin[p * datasets + d];
  }

  /** Samples of dataset d with margin &gt; 0 under point p. */
  public long correct(int p, int d) {
    return correct[p * datasets + d];
  }

  public long count(int d) {
    return count[d];
  }
}
