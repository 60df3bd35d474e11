package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;

/**
 * The r largest or the r smallest singular triplets {@code A v_i = σ_i u_i} of an m×n matrix (k = min(m, n) singular
 * values), without a full SVD, verified a posteriori. Work is done in the tall orientation (a wide A is handled as
 * Aᵀ, with U and V swapped).
 *
 * <ul>
 *   <li><b>Largest</b>: thick-restart block Lanczos ({@link PartialSymmetricEigen}) on the Gram operator {@code AᵀA},
 *       applied as two products with A per block, so A may be implicit (CorDA's {@code W (C+λI)} is never formed).
 *   <li><b>Smallest</b>: {@code A = Q R} (dgeqrf, Q not formed), then Lanczos for the largest eigenpairs of
 *       {@code (RᵀR)⁻¹ = R⁻¹R⁻ᵀ} (two triangular solves per block): {@code 1/σ²} is the well separated end of that
 *       spectrum, whereas the bottom of {@code AᵀA} is clustered relative to its spread and loses every σ below
 *       {@code √ε·σ_1}. A numerically singular R is refused (the caller falls back to the full SVD).
 *   <li><b>Refinement</b>: up to three more applications of the Lanczos operator to the Ritz vectors (power steps
 *       that damp their error along far singular directions, which Wedin's residual weighs by up to σ_1), each
 *       followed by Rayleigh–Ritz with A itself: the thin SVD of {@code A V₀} (m×r) gives U, Σ and the rotation of
 *       V₀, so {@code A V = U Σ} holds by construction and σ is not computed from its square.
 *   <li><b>Verification</b> (Wedin's sin θ theorem): with {@code R_u = A V − U Σ}, {@code R_v = Aᵀ U − V Σ} and δ the
 *       distance from the computed σ's to the unwanted singular values (and to 0 when m ≠ n and the smallest are
 *       wanted), the sines of the principal angles to the exact singular subspaces, of U and of V, are at most
 *       {@code ‖[R_u R_v]‖_F / δ}. The unwanted side of δ comes from the best unwanted Ritz value widened by its
 *       residual: an estimate, since a Krylov space could miss an eigenvalue (a random start makes that a
 *       probability-zero event). A bound above {@code maxSinTheta} gets one retry, warm-started, at a tolerance
 *       tightened by the missing factor; a result still above it, or a Lanczos run that does not converge, throws a
 *       {@link StateException} naming the bound and the gap.
 * </ul>
 *
 * Triplets come in descending order of σ, the order of the full SVD's columns (the smallest r are its last r).
 */
public final class PartialSvd {
  /** Which end of the singular spectrum. */
  public enum Which {
    LARGEST, SMALLEST
  }

  /** The verified triplets and what verifying them found. */
  public static final class Result {
    private final DenseMatrix u;
    private final double[] values;
    private final DenseMatrix v;
    private final double sinThetaBound;
    private final int restarts;
    private final double residual;
    private final double gap;

    Result(DenseMatrix u, double[] values, DenseMatrix v, double sinThetaBound, int restarts, double residual,
        double gap) {
      this.residual = residual;
      this.gap = gap;
      this.u = u;
      this.values = values;
      this.v = v;
      this.sinThetaBound = sinThetaBound;
      this.restarts = restarts;
    }

    /** m×r, orthonormal columns. */
    public DenseMatrix u() {
      return u;
    }

    /** The r singular values, descending. */
    public double[] values() {
      return values;
    }

    /** n×r, orthonormal columns. */
    public DenseMatrix v() {
      return v;
    }

    /** Wedin's bound on sin θ of U and V against the exact singular subspaces. */
    public double sinThetaBound() {
      return sinThetaBound;
    }

    public int restarts() {
      return restarts;
    }
  }

  /** Lanczos tolerance of {@link #defaultOptions()}. */
  public static final double DEFAULT_TOLERANCE = 1e-10;
  /** The bound a result must meet: the agreement with the full SVD the init methods promise. */
  public static final double DEFAULT_MAX_SIN_THETA = 1e-8;
  /**
   * The tightest Lanczos tolerance a retry asks for: {@link PartialSymmetricEigen}'s residuals stall at 1e-11 to 2e-11
   * of ‖A‖ on some spectra (seen in PartialRoutesTest), so a tighter request would only spend restarts.
   */
  private static final double MIN_TOLERANCE = 1e-11;
  /** Power steps tried before a bound is refused: each damps the far error components by another factor. */
  private static final int POLISHING_STEPS = 3;

  private PartialSvd() {}

  /** The eigensolver's defaults with {@link #DEFAULT_TOLERANCE}. */
  public static PartialSymmetricEigen.Options defaultOptions() {
    return PartialSymmetricEigen.Options.defaults().withTolerance(DEFAULT_TOLERANCE);
  }

  /** The r largest triplets of {@code a} (possibly implicit). */
  public static Result largest(LinearOperator a, int r, PartialSymmetricEigen.Options options, double maxSinTheta) {
    check(a.rows(), a.cols(), r);
    boolean wide = a.rows() < a.cols();
    LinearOperator tall = wide ? a.transpose() : a;
    int n = tall.cols();
    SymmetricOperator gram = SymmetricOperator.of(n, (x, out) -> {
      DenseMatrix y = tall.applyTranspose(tall.apply(x));
      System.arraycopy(y.data(), 0, out.data(), 0, y.data().length);
    });
    return solve(tall, gram, Which.LARGEST, r, options, maxSinTheta, wide);
  }

  /** The r smallest triplets of dense {@code a} (not modified). */
  public static Result smallest(DenseMatrix a, int r, PartialSymmetricEigen.Options options, double maxSinTheta) {
    check(a.rows(), a.cols(), r);
    boolean wide = a.rows() < a.cols();
    DenseMatrix tall = wide ? a.transpose() : a;
    int n = tall.cols();
    double[] rf = upperTriangle(tall);
    SymmetricOperator inverseGram = SymmetricOperator.of(n, (x, out) -> {
      System.arraycopy(x.data(), 0, out.data(), 0, x.data().length);
      if (x.cols() > 0) {
        Blas.blas().dtrsm("L", "U", "T", "N", n, x.cols(), 1.0, rf, n, out.data(), n);
        Blas.blas().dtrsm("L", "U", "N", "N", n, x.cols(), 1.0, rf, n, out.data(), n);
      }
    });
    return solve(LinearOperator.of(tall), inverseGram, Which.SMALLEST, r, options, maxSinTheta, wide);
  }

  /**
   * Lanczos on {@code op} (whose largest eigenpairs give the wanted triplets), then {@link #finish}. A bound that
   * misses {@code maxSinTheta} by a factor the residual can make up is retried once, warm-started from the Ritz
   * vectors, with the tolerance tightened by that factor (×4), unless that is below {@link #MIN_TOLERANCE}.
   */
  private static Result solve(LinearOperator tall, SymmetricOperator op, Which which, int r,
      PartialSymmetricEigen.Options options, double maxSinTheta, boolean wide) {
    PartialSymmetricEigen.Options o = options;
    DenseMatrix warm = null;
    int restarts = 0;
    while (true) {
      PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(op, r, PartialSymmetricEigen.Which.LARGEST, warm,
          o);
      restarts += p.restarts() + (warm == null ? 0 : 1);
      double mu = p.next() + p.nextResidual() * p.values()[0];
      double unwanted = which == Which.LARGEST ? Math.sqrt(Math.max(0, mu)) : mu > 0 ? 1 / Math.sqrt(mu) : Double.NaN;
      Result best = finish(tall, op, p, which, unwanted, wide, maxSinTheta, restarts);
      if (best.sinThetaBound <= maxSinTheta) {
        return best;
      }
      double tighter = o.tolerance() * maxSinTheta / best.sinThetaBound / 4;
      if (warm != null || !(tighter >= MIN_TOLERANCE)) {
        double edge = which == Which.LARGEST ? best.values[r - 1] : best.values[0];
        throw new StateException("Partial SVD not verified: sin θ bound " + best.sinThetaBound + " > " + maxSinTheta
            + " (residual " + best.residual + ", gap " + best.gap + " between σ = " + edge + " and the unwanted σ ≈ "
            + unwanted + "; r = " + r + ", " + which + ")");
      }
      o = o.withTolerance(tighter);
      warm = p.vectors();
    }
  }

  private static void check(int m, int n, int r) {
    if (r < 1 || r > Math.min(m, n)) {
      throw new ArgumentException("Requested " + r + " singular triplets of a " + m + "×" + n + " matrix (r must be "
          + "in [1, " + Math.min(m, n) + "])");
    }
  }

  /**
   * Rayleigh–Ritz refinement and Wedin's bound. {@code unwanted}: the estimate of σ_{r+1} (LARGEST) or σ_{k−r}
   * (SMALLEST) closest to the wanted ones; NaN when r = k (nothing is unwanted) or when the Lanczos run gave no
   * unwanted Ritz value to estimate it from (then the result is not verified).
   */
  private static Result finish(LinearOperator tall, SymmetricOperator op, PartialSymmetricEigen.Result p, Which which,
      double unwanted, boolean wide, double maxSinTheta, int restarts) {
    DenseMatrix x = p.vectors();
    Result best = null;
    for (int step = 1; step <= POLISHING_STEPS; step++) {
      x = polish(op, x);
      Result res = rayleighRitz(tall, x, which, unwanted, wide);
      if (best == null || res.sinThetaBound < best.sinThetaBound) {
        best = res;
      }
      if (best.sinThetaBound <= maxSinTheta) {
        break;
      }
    }
    return new Result(best.u, best.values, best.v, best.sinThetaBound, restarts, best.residual, best.gap);
  }

  /** {@code op·x}, orthonormalised. */
  private static DenseMatrix polish(SymmetricOperator op, DenseMatrix x) {
    DenseMatrix y = DenseMatrix.zeros(x.rows(), x.cols());
    op.apply(x, y);
    DenseMatrix q = Orthonormalizer.orthonormalize(y, null, Orthonormalizer.DEFAULT_DROP_TOLERANCE);
    if (q.cols() != x.cols()) {
      throw new StateException("Partial SVD: the Ritz vectors lost rank in a polishing step (" + q.cols() + " of "
          + x.cols() + ")");
    }
    return q;
  }

  /** Triplets from span(x) (the thin SVD of {@code A x}) with Wedin's bound. */
  private static Result rayleighRitz(LinearOperator tall, DenseMatrix x, Which which, double unwanted, boolean wide) {
    int r = x.cols();
    ThinSvd small = ThinSvd.of(tall.apply(x));
    DenseMatrix u = small.u();
    double[] s = small.singularValues();
    DenseMatrix v = Matrices.multiply(x, small.v());
    DenseMatrix ru = tall.apply(v);
    DenseMatrix rv = tall.applyTranspose(u);
    for (int j = 0; j < r; j++) {
      for (int i = 0; i < ru.rows(); i++) {
        ru.add(i, j, -s[j] * u.get(i, j));
      }
      for (int i = 0; i < rv.rows(); i++) {
        rv.add(i, j, -s[j] * v.get(i, j));
      }
    }
    double residual = Math.hypot(ru.frobeniusNorm(), rv.frobeniusNorm());
    boolean anyUnwanted = r < tall.cols();
    double gap;
    if (which == Which.LARGEST) {
      gap = anyUnwanted ? s[r - 1] - unwanted : Double.POSITIVE_INFINITY;
    } else {
      gap = anyUnwanted ? unwanted - s[0] : Double.POSITIVE_INFINITY;
      if (tall.rows() != tall.cols()) {
        gap = Math.min(gap, s[r - 1]);
      }
    }
    double bound = gap > 0 ? residual / gap : Double.POSITIVE_INFINITY;
    if (Double.isNaN(bound)) {
      bound = Double.POSITIVE_INFINITY;
    }
    return wide ? new Result(v, s, u, bound, 0, residual, gap) : new Result(u, s, v, bound, 0, residual, gap);
  }

  /**
   * R (n×n, column-major, zeros below the diagonal) of {@code A = Q R} for tall A; fails when R is numerically
   * singular ({@code min |r_ii| ≤ n·ε·max |r_ii|}), where the smallest singular values are not resolved by solves.
   */
  private static double[] upperTriangle(DenseMatrix a) {
    int m = a.rows();
    int n = a.cols();
    for (double x : a.data()) {
      if (!Double.isFinite(x)) {
        throw new ArgumentException("Matrix for SVD holds a non-finite value " + x);
      }
    }
    double[] f = a.data().clone();
    double[] tau = new double[n];
    org.netlib.util.intW info = new org.netlib.util.intW(0);
    double[] wq = new double[1];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dgeqrf(m, n, f, m, tau, wq, -1, info);
      double[] work = new double[Math.max(1, (int) wq[0])];
      Blas.lapack().dgeqrf(m, n, f, m, tau, work, work.length, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dgeqrf failed with info = " + info.val);
    }
    double[] rf = new double[n * n];
    double max = 0;
    double min = Double.POSITIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      System.arraycopy(f, j * m, rf, j * n, j + 1);
      double d = Math.abs(rf[j + j * n]);
      max = Math.max(max, d);
      min = Math.min(min, d);
    }
    if (!(min > n * Math.ulp(1.0) * max)) {
      throw new StateException("Partial SVD: the matrix is numerically rank deficient (QR diagonal min " + min
          + ", max " + max + "): its smallest singular values need the full SVD");
    }
    return rf;
  }
}
