package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import java.util.Locale;

/**
 * The closed forms of seed 002 (METHODS.md, "Merging and forgetting") from the measured quantities
 * {@code ρ_pre = ‖W_pre‖_F}, {@code γ_pre = γ(W_pre; D_pre)}, {@code γ_i = γ(ΔW_i; D_i)}, {@code Θ_i = ‖ΔW_i‖_F}.
 *
 * <p>Theorem 3.3, merged {@code W(α) = W_pre + Σ α_i ΔW_i} under orthogonal tasks:
 * {@code γ(W(α); D_pre) = γ_pre ρ_pre / sqrt(ρ_pre² + Σ α_j² Θ_j²)},
 * {@code γ(W(α); D_i) = γ_i α_i Θ_i / sqrt(ρ_pre² + Σ α_j² Θ_j²)}, the union margin is their minimum, maximised by
 * {@code α_i = ρ_pre γ_pre / (γ_i Θ_i)} at {@code (1/γ_pre² + Σ 1/γ_i²)^{-1/2}}.
 *
 * <p>Theorem 3.2, one adapter of norm Θ on the pre-trained head:
 * {@code γ(D_pre) = γ_pre ρ_pre / sqrt(Θ² + ρ_pre²)}, {@code γ(D_ft) = γ_ft Θ / sqrt(Θ² + ρ_pre²)}; the best trade-off
 * is at {@code Θ = ρ_pre γ_pre / γ_ft} with union margin {@code (1/γ_ft² + 1/γ_pre²)^{-1/2}}. The theorem's γ*_ft is
 * the best normalized margin of any linear classifier on D_ft; the theory's adapter attains it, so the measured
 * {@code γ_i} stands in for it.
 *
 * <p>The closed forms need every margin positive (separable data, each component classifying its own data). When one
 * is not, {@link #undefinedReason()} says which, with its value, and every prediction is NaN.
 */
public final class MergeTheory {
  private final double rho;
  private final double gammaPre;
  private final double[] gamma;
  private final double[] theta;
  private final String undefined;

  public MergeTheory(double rho, double gammaPre, double[] gamma, double[] theta) {
    if (gamma.length != theta.length || gamma.length == 0) {
      throw new ArgumentException(gamma.length + " task margins and " + theta.length + " adapter norms: expected "
          + "one of each per adapter (at least one)");
    }
    this.rho = rho;
    this.gammaPre = gammaPre;
    this.gamma = gamma.clone();
    this.theta = theta.clone();
    this.undefined = reason();
  }

  private String reason() {
    if (!(rho > 0)) {
      return "ρ_pre = ‖W_pre‖_F = " + fmt(rho) + " (the pre-trained head is zero)";
    }
    if (!(gammaPre > 0)) {
      return "γ_pre = γ(W_pre; D_pre) = " + fmt(gammaPre) + " ≤ 0: the pre-trained head misclassifies (or ties) a "
          + "pre-training sample";
    }
    for (int i = 0; i < gamma.length; i++) {
      if (!(theta[i] > 0)) {
        return "Θ_" + (i + 1) + " = ‖ΔW_" + (i + 1) + "‖_F = " + fmt(theta[i]) + " (adapter " + (i + 1) + " is zero)";
      }
      if (!(gamma[i] > 0)) {
        return "γ_" + (i + 1) + " = γ(ΔW_" + (i + 1) + "; D_" + (i + 1) + ") = " + fmt(gamma[i]) + " ≤ 0: adapter "
            + (i + 1) + " alone misclassifies (or ties) a sample of its task";
      }
    }
    return null;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  /** Null when the closed forms apply; otherwise why not, naming the quantity and its value. */
  public String undefinedReason() {
    return undefined;
  }

  public boolean defined() {
    return undefined == null;
  }

  public int tasks() {
    return gamma.length;
  }

  public double rho() {
    return rho;
  }

  public double gammaPre() {
    return gammaPre;
  }

  public double gamma(int i) {
    return gamma[i];
  }

  public double theta(int i) {
    return theta[i];
  }

  /** Theorem 3.3's {@code α_i = ρ_pre γ_pre / (γ_i Θ_i)}, or null when undefined. */
  public double[] optimalAlpha() {
    if (!defined()) {
      return null;
    }
    double[] a = new double[gamma.length];
    for (int i = 0; i < a.length; i++) {
      a[i] = rho * gammaPre / (gamma[i] * theta[i]);
    }
    return a;
  }

  /** {@code (1/γ_pre² + Σ 1/γ_i²)^{-1/2}}, the largest union margin any α gives; NaN when undefined. */
  public double optimalUnionMargin() {
    if (!defined()) {
      return Double.NaN;
    }
    double s = 1 / (gammaPre * gammaPre);
    for (double g : gamma) {
      s += 1 / (g * g);
    }
    return 1 / Math.sqrt(s);
  }

  private double denominator(double[] alpha) {
    if (alpha.length != gamma.length) {
      throw new ArgumentException(alpha.length + " coefficients for " + gamma.length + " adapters");
    }
    double s = rho * rho;
    for (int j = 0; j < alpha.length; j++) {
      s += alpha[j] * alpha[j] * theta[j] * theta[j];
    }
    return Math.sqrt(s);
  }

  /** Predicted {@code γ(W(α); D_pre)}; NaN when undefined. */
  public double predictedPre(double[] alpha) {
    return defined() ? gammaPre * rho / denominator(alpha) : Double.NaN;
  }

  /** Predicted {@code γ(W(α); D_i)} (i from 0); NaN when undefined. */
  public double predictedTask(int i, double[] alpha) {
    return defined() ? gamma[i] * alpha[i] * theta[i] / denominator(alpha) : Double.NaN;
  }

  /** Predicted union margin: the minimum over D_pre and every D_i; NaN when undefined. */
  public double predictedUnion(double[] alpha) {
    double m = predictedPre(alpha);
    for (int i = 0; i < gamma.length; i++) {
      m = Math.min(m, predictedTask(i, alpha));
    }
    return m;
  }

  /** Theorem 3.2: the adapter norm that balances D_pre and D_i, {@code ρ_pre γ_pre / γ_i}; NaN when undefined. */
  public double singleTaskBestTheta(int i) {
    return defined() ? rho * gammaPre / gamma[i] : Double.NaN;
  }

  /** Theorem 3.2: predicted {@code γ(W_pre + (Θ/Θ_i) ΔW_i; D_pre)}; NaN when undefined. */
  public double singleTaskPre(double thetaNorm) {
    return defined() ? gammaPre * rho / Math.sqrt(thetaNorm * thetaNorm + rho * rho) : Double.NaN;
  }

  /** Theorem 3.2: predicted {@code γ(W_pre + (Θ/Θ_i) ΔW_i; D_i)}; NaN when undefined. */
  public double singleTaskTask(int i, double thetaNorm) {
    return defined() ? gamma[i] * thetaNorm / Math.sqrt(thetaNorm * thetaNorm + rho * rho) : Double.NaN;
  }

  /** Theorem 3.2: the best union margin over D_pre ∪ D_i, {@code (1/γ_i² + 1/γ_pre²)^{-1/2}}; NaN when undefined. */
  public double singleTaskBestUnion(int i) {
    return defined() ? 1 / Math.sqrt(1 / (gamma[i] * gamma[i]) + 1 / (gammaPre * gammaPre)) : Double.NaN;
  }
}
