package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.Cholesky;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.ThinSvd;

/**
 * CorDA (METHODS.md; reference behaviour HF PEFT {@code collect_eigens_for_layer} and {@code corda_init}): with the
 * input covariance {@code C} (token Gram / number of samples), damp {@code C + λI} with {@code λ = 0.01·mean(diag C)},
 * doubled until {@code ‖(C+λI)(C+λI)⁻¹ − I‖_F < 0.05}; SVD {@code W (C+λI) = U Σ Vhᵀ}; {@code V = (C+λI)⁻¹ Vh};
 * IPA keeps the first r triplets (fine-tuning data), KPA the last r (knowledge to preserve); {@code S = Σ/s},
 * {@code A = √S Vᵀ}, {@code B = U √S}, residual {@code W − s·B·A}.
 *
 * <p>Unlike PEFT's own covariance hook we do not divide each forward call's input by its largest element: C is the
 * plain token Gram over the number of samples, which is what PEFT computes from a {@code covariance_file}.
 */
public final class Corda {
  private Corda() {}

  public enum Mode {
    /** Instruction-previewed adaptation: the r largest components. */
    IPA,
    /** Knowledge-preserved adaptation: the r smallest components. */
    KPA
  }

  /** Initial damping factor and stop rule of PEFT. */
  public static final double INITIAL_DAMPING = 0.01;
  public static final double INVERSE_ERROR = 0.05;

  /** The result with the damping that was used. */
  public static final class Result {
    public final InitFactors factors;
    public final double damping;

    Result(InitFactors factors, double damping) {
      this.factors = factors;
      this.damping = damping;
    }
  }

  public static Result init(DenseMatrix w, DenseMatrix covariance, int r, double scaling, Mode mode) {
    int out = w.rows();
    int in = w.cols();
    InitFactors.checkRank("CorDA", r, out, in);
    if (covariance.rows() != in || covariance.cols() != in) {
      throw new ArgumentException("CorDA: covariance is " + covariance.shapeString() + " but the weight is "
          + w.shapeString());
    }
    double meanDiag = Matrices.trace(covariance) / in;
    if (!(meanDiag > 0) || !Double.isFinite(meanDiag)) {
      throw new ArgumentException("CorDA: the input covariance has mean diagonal " + meanDiag
          + " (no signal reached this module?)");
    }
    double factor = INITIAL_DAMPING;
    DenseMatrix damped = null;
    DenseMatrix inverse = null;
    for (int attempt = 0; attempt < 60; attempt++) {
      double lambda = factor * meanDiag;
      damped = covariance.copy();
      for (int i = 0; i < in; i++) {
        damped.add(i, i, lambda);
      }
      try {
        inverse = Cholesky.factor(covariance, lambda).inverse();
      } catch (StateException notPositive) {
        factor *= 2;
        continue;
      }
      DenseMatrix check = Matrices.multiply(damped, inverse);
      for (int i = 0; i < in; i++) {
        check.add(i, i, -1.0);
      }
      if (check.frobeniusNorm() < INVERSE_ERROR) {
        break;
      }
      factor *= 2;
      inverse = null;
    }
    if (inverse == null) {
      throw new StateException("CorDA: no damping up to 2^60·0.01·mean(diag C) makes C + λI invertible");
    }
    ThinSvd svd = ThinSvd.of(Matrices.multiply(w, damped));
    int k = Math.min(out, in);
    int from = mode == Mode.IPA ? 0 : k - r;
    DenseMatrix u = svd.u().columns(from, from + r);
    DenseMatrix vh = svd.v().columns(from, from + r);
    DenseMatrix v = Matrices.multiply(inverse, vh);
    Matrices.canonicalSigns(u, v);
    double[] s = java.util.Arrays.copyOfRange(svd.singularValues(), from, from + r);
    return new Result(Factorizations.balanced(u, s, v, scaling, svd.singularValues()), factor * meanDiag);
  }
}
