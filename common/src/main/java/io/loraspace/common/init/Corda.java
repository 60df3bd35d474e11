package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.Cholesky;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.LinearOperator;
import io.loraspace.common.linalg.Matrices;
import java.util.function.Supplier;

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
    /** Which solver gave the singular triplets ({@link EigenSolver.SvdSolved#solver}). */
    public final String solver;
    /** Why AUTO fell back to the full SVD; null otherwise. */
    public final String fallbackReason;
    /**
     * How the damping's inverse check was decided: {@code "bound"} ({@link Cholesky#inverseResidualBound()} below
     * {@link #INVERSE_ERROR}, no inverse formed) or {@code "explicit"} (PEFT's check, {@code (C+λI)X − I} formed).
     */
    public final String inverseCheck;

    Result(InitFactors factors, double damping, String solver, String fallbackReason, String inverseCheck) {
      this.factors = factors;
      this.damping = damping;
      this.solver = solver;
      this.fallbackReason = fallbackReason;
      this.inverseCheck = inverseCheck;
    }
  }

  /** {@link #init(DenseMatrix, DenseMatrix, int, double, Mode, EigenSolver)} with the full SVD. */
  public static Result init(DenseMatrix w, DenseMatrix covariance, int r, double scaling, Mode mode) {
    return init(w, covariance, r, scaling, mode, EigenSolver.FULL);
  }

  /**
   * CorDA's factors. The damped covariance is never inverted: {@code V = (C+λI)⁻¹ Vh} is r Cholesky solves (dpotrs).
   * PEFT's check {@code ‖(C+λI)(C+λI)⁻¹ − I‖_F < 0.05} is decided by {@link Cholesky#inverseResidualBound()} when the
   * bound is below 0.05 (then PEFT's float64 check passes too); only otherwise are the inverse and the product formed.
   * IPA's triplets come from {@code x ↦ W (C x + λx)} without forming {@code W (C+λI)} under a partial solver.
   */
  public static Result init(DenseMatrix w, DenseMatrix covariance, int r, double scaling, Mode mode,
      EigenSolver solver) {
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
    Cholesky chol = null;
    String check = null;
    for (int attempt = 0; attempt < 60 && check == null; attempt++) {
      double lambda = factor * meanDiag;
      try {
        chol = Cholesky.factor(covariance, lambda);
      } catch (StateException notPositive) {
        factor *= 2;
        continue;
      }
      if (chol.inverseResidualBound() < INVERSE_ERROR) {
        check = "bound";
      } else if (explicitInverseError(covariance, lambda, chol) < INVERSE_ERROR) {
        check = "explicit";
      } else {
        factor *= 2;
      }
    }
    if (check == null) {
      throw new StateException("CorDA: no damping up to 2^60·0.01·mean(diag C) makes C + λI invertible");
    }
    double lambda = factor * meanDiag;
    Supplier<DenseMatrix> product = () -> Matrices.multiply(w, damped(covariance, lambda));
    EigenSolver.SvdSolved svd = mode == Mode.IPA
        ? solver.svdTop(dampedProduct(w, covariance, lambda), product, r)
        : solver.svdBottom(product.get(), r);
    DenseMatrix u = svd.u;
    DenseMatrix v = chol.solve(svd.v);
    Matrices.canonicalSigns(u, v);
    return new Result(Factorizations.balanced(u, svd.values, v, scaling, svd.spectrum), lambda, svd.solver,
        svd.fallbackReason, check);
  }

  private static DenseMatrix damped(DenseMatrix c, double lambda) {
    DenseMatrix d = c.copy();
    for (int i = 0; i < d.rows(); i++) {
      d.add(i, i, lambda);
    }
    return d;
  }

  /** PEFT's check: {@code ‖(C+λI) X − I‖_F} with X the inverse from the factor (two n³ steps: dpotri, dgemm). */
  private static double explicitInverseError(DenseMatrix c, double lambda, Cholesky chol) {
    DenseMatrix e = Matrices.multiply(damped(c, lambda), chol.inverse());
    for (int i = 0; i < e.rows(); i++) {
      e.add(i, i, -1.0);
    }
    return e.frobeniusNorm();
  }

  /** {@code x ↦ W (C + λI) x} and its transpose {@code y ↦ (C + λI) Wᵀ y} (C symmetric), never formed. */
  private static LinearOperator dampedProduct(DenseMatrix w, DenseMatrix c, double lambda) {
    return LinearOperator.of(w.rows(), w.cols(), x -> Matrices.multiply(w, damped(c, lambda, x)),
        y -> damped(c, lambda, Matrices.multiply(w, true, y, false)));
  }

  /** {@code (C + λI) x}, a new matrix. */
  private static DenseMatrix damped(DenseMatrix c, double lambda, DenseMatrix x) {
    DenseMatrix out = x.copy();
    Matrices.multiply(1.0, c, false, x, false, lambda, out);
    return out;
  }
}
