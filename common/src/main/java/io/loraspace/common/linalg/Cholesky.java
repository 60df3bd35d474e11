package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import org.netlib.util.intW;

/**
 * Damped Cholesky solves {@code (C + λI) X = B} for symmetric positive (semi)definite C (LAPACK dpotrf/dpotrs). A
 * matrix that is not positive definite after damping fails naming λ and the failing pivot.
 */
public final class Cholesky {
  private final int n;
  private final double[] factor;
  private final double damping;
  /** 1-norm of {@code C + λI}, for the condition estimate. */
  private final double norm1;

  private Cholesky(int n, double[] factor, double damping, double norm1) {
    this.n = n;
    this.factor = factor;
    this.damping = damping;
    this.norm1 = norm1;
  }

  /** Factors {@code c + damping·I} (c is not modified; its upper triangle is read). */
  public static Cholesky factor(DenseMatrix c, double damping) {
    if (c.rows() != c.cols()) {
      throw new ArgumentException("Cholesky needs a square matrix, got " + c.shapeString());
    }
    if (!(damping >= 0) || !Double.isFinite(damping)) {
      throw new ArgumentException("Damping is " + damping + ", expected a finite value ≥ 0");
    }
    int n = c.rows();
    double[] f = c.data().clone();
    for (int i = 0; i < n; i++) {
      f[i + i * n] += damping;
    }
    intW info = new intW(0);
    double norm1 = 0;
    if (n > 0) {
      synchronized (Blas.lapackLock()) {
        norm1 = Blas.lapack().dlansy("1", "U", n, f, n, new double[n]);
        Blas.lapack().dpotrf("U", n, f, n, info);
      }
    }
    if (info.val > 0) {
      throw new StateException("Matrix + " + damping + "·I is not positive definite: Cholesky pivot " + info.val
          + " of " + n + " is not positive; increase the damping");
    }
    if (info.val < 0) {
      throw new StateException("LAPACK dpotrf failed with info = " + info.val);
    }
    return new Cholesky(n, f, damping, norm1);
  }

  public double damping() {
    return damping;
  }

  /** Solves {@code (C + λI) X = B}; returns X (B is not modified). */
  public DenseMatrix solve(DenseMatrix b) {
    if (b.rows() != n) {
      throw new ArgumentException("Right-hand side has " + b.rows() + " rows, matrix is " + n + "×" + n);
    }
    double[] x = b.data().clone();
    if (n > 0 && b.cols() > 0) {
      intW info = new intW(0);
      synchronized (Blas.lapackLock()) {
        Blas.lapack().dpotrs("U", n, b.cols(), factor, n, x, n, info);
      }
      if (info.val != 0) {
        throw new StateException("LAPACK dpotrs failed with info = " + info.val);
      }
    }
    return DenseMatrix.wrap(n, b.cols(), x);
  }

  /**
   * LAPACK {@code dpocon}'s estimate of {@code 1/κ₁(C + λI)} from the factor, in O(n²) (Hager–Higham 1-norm estimator:
   * usually exact, rarely low by more than a factor of 3). 1 for n = 0.
   */
  public double reciprocalCondition() {
    if (n == 0) {
      return 1.0;
    }
    org.netlib.util.doubleW rcond = new org.netlib.util.doubleW(0);
    intW info = new intW(0);
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dpocon("U", n, factor, n, norm1, rcond, new double[3 * n], new int[n], info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dpocon failed with info = " + info.val);
    }
    return rcond.val;
  }

  /**
   * An upper bound on {@code ‖(C + λI) X − I‖_F} for X the inverse computed from this factor, without forming X:
   * Cholesky-based inversion is backward stable, with residual {@code ‖A X − I‖₂ ≤ c·n·u·κ₂(A)} (Higham, Accuracy and
   * Stability, §14.2); {@code ‖·‖_F ≤ √n ‖·‖₂}, {@code κ₂ ≤ κ₁} for symmetric A, and the factor {@code c = 10} covers
   * both the constant and the estimator's underestimate: {@code 10·n^{3/2}·u / rcond}.
   */
  public double inverseResidualBound() {
    return 10 * Math.pow(n, 1.5) * Math.ulp(1.0) / 2 / reciprocalCondition();
  }

  /**
   * {@code (C + λI)⁻¹}, full and symmetric, from the factor by LAPACK {@code dpotri} (U⁻¹ then U⁻¹U⁻ᵀ: about
   * (2/3)n³ flops, a third of solving against the identity, {@code solve(I)}: 2n³).
   */
  public DenseMatrix inverse() {
    double[] inv = factor.clone();
    if (n > 0) {
      intW info = new intW(0);
      synchronized (Blas.lapackLock()) {
        Blas.lapack().dpotri("U", n, inv, n, info);
      }
      if (info.val != 0) {
        throw new StateException("LAPACK dpotri failed with info = " + info.val);
      }
    }
    DenseMatrix m = DenseMatrix.wrap(n, n, inv);
    m.symmetrizeFromUpper();
    return m;
  }
}
