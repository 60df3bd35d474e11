package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/**
 * One module's initialisation in PEFT orientation: {@code A} (r×in), {@code B} (out×r), the scaling {@code s} of
 * {@code ΔW = s·B·A}, and whether the method keeps the model's function by a residual {@code W_res = W − s·B·A}.
 * {@code spectrum} holds the values the method ranked directions by (eigenvalues, singular values), for reports.
 */
public final class InitFactors {
  private final DenseMatrix a;
  private final DenseMatrix b;
  private final double scaling;
  private final boolean residual;
  private final double[] spectrum;

  public InitFactors(DenseMatrix a, DenseMatrix b, double scaling, boolean residual, double[] spectrum) {
    if (a.rows() != b.cols()) {
      throw new ArgumentException("A is " + a.shapeString() + " but B is " + b.shapeString() + ": ranks differ");
    }
    this.a = a;
    this.b = b;
    this.scaling = scaling;
    this.residual = residual;
    this.spectrum = spectrum;
  }

  /** r×in ({@code lora_A.weight}). */
  public DenseMatrix a() {
    return a;
  }

  /** out×r ({@code lora_B.weight}). */
  public DenseMatrix b() {
    return b;
  }

  public double scaling() {
    return scaling;
  }

  public int rank() {
    return a.rows();
  }

  /** True when the base weight must be replaced by {@link #residualOf} for the model to be unchanged at step 0. */
  public boolean needsResidual() {
    return residual;
  }

  public double[] spectrum() {
    return spectrum;
  }

  /** {@code s·B·A} (out×in). */
  public DenseMatrix delta() {
    DenseMatrix d = Matrices.multiply(b, a);
    Matrices.scale(scaling, d);
    return d;
  }

  /** {@code W − s·B·A} in float64 (the caller rounds to the checkpoint's dtype). */
  public DenseMatrix residualOf(DenseMatrix w) {
    if (w.rows() != b.rows() || w.cols() != a.cols()) {
      throw new ArgumentException("Weight is " + w.shapeString() + " but the factors give " + b.rows() + "×" + a.cols());
    }
    DenseMatrix res = w.copy();
    Matrices.multiply(-scaling, b, false, a, false, 1.0, res);
    return res;
  }

  /** Fails when r exceeds what the module's shape allows. */
  static void checkRank(String method, int r, int out, int in) {
    if (r < 1 || r > Math.min(out, in)) {
      throw new ArgumentException(method + ": rank r = " + r + " is larger than the module allows (weight " + out
          + "×" + in + ", r must be in [1, " + Math.min(out, in) + "])");
    }
  }
}
