package io.loraspace.common.recycle;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import java.util.Locale;

/**
 * EigenLoRAx leave-one-out folds (seed 001, step 5; METHODS.md) by the exact downdate in the full-data eigenbasis Q
 * ({@link AdapterPca.Eigenbasis}): without adapter i (vectors M_i, d × r_i) the fold's scatter in that basis is
 * {@code F = Λ + s sᵀ/n − m mᵀ − s_i s_iᵀ/n_i} (s = Qᵀσ, m = Qᵀ M_i, s_i = s − m·1, n_i = n − r_i; the σ terms only
 * when centred): diagonal plus rank r_i + 2.
 *
 * <p>Solver contract: every fold returns; none throws on numerics. The top K of F come from block Lanczos
 * warm-started from the full-data top K (O(d·(r_i + 2)) per operator column) when it converges and its subspace is
 * certified accurate: with relative residual ρ (residual / λ_1) and a lower bound g of the relative gap at K
 * ((λ_K − λ_{K+1}) / λ_1, from the (K+1)-th Ritz value and its residual), Davis–Kahan bounds the sine of the largest
 * principal angle to the exact fold subspace by ρ / g; Lanczos is accepted when ρ ≤ {@link Options#maxSinBound}·g.
 * Otherwise F is formed (d × d) and solved by LAPACK {@code dsyevr} (O(d³), backward stable: its subspace is as
 * accurate as exact recomputation's), which is what small gaps (K inside a noise bulk, repeated eigenvalues) need.
 * {@link Fold#solver} says which answered, {@link Fold#gap} is the fold's relative gap at K.
 *
 * <p>K per fold: a fold of n_i vectors has at most {@code min(d, n_i − 1)} (centred) or {@code min(d, n_i)}
 * components; a larger K is reduced to that ({@link Fold#components}); the components beyond would be arbitrary
 * directions of the fold's null space.
 */
public final class LeaveOneOutPca {
  private LeaveOneOutPca() {}

  /** Which solver answered a fold. */
  public enum Solver {
    /** Block Lanczos, converged and certified by residual / gap. */
    LANCZOS,
    /** Lanczos converged, but its residual / gap bound exceeded the accuracy asked for: solved densely. */
    DENSE_SMALL_GAP,
    /** Lanczos did not converge within its restarts: solved densely. */
    DENSE_NOT_CONVERGED,
    /** Solved densely without trying Lanczos (K = the fold's whole space). */
    DENSE;

    /** Kebab-case id, as written to the errors table and report. */
    public String id() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Immutable fold-solver options. */
  public static final class Options implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final double tolerance;
    private final int maxRestarts;
    private final double maxSinBound;

    /**
     * @param tolerance Lanczos relative residual tolerance
     * @param maxRestarts Lanczos restarts before the dense fallback
     * @param maxSinBound largest accepted Davis–Kahan bound residual / gap on the sine of the subspace error
     */
    public Options(double tolerance, int maxRestarts, double maxSinBound) {
      if (!(tolerance > 0) || maxRestarts < 1 || !(maxSinBound > 0)) {
        throw new ArgumentException("Leave-one-out solver options: tolerance " + tolerance + " (> 0), maxRestarts "
            + maxRestarts + " (≥ 1), maxSinBound " + maxSinBound + " (> 0)");
      }
      this.tolerance = tolerance;
      this.maxRestarts = maxRestarts;
      this.maxSinBound = maxSinBound;
    }

    /**
     * Tolerance 1e-10, 200 restarts, sine bound 1e-7: a well-separated fold (relative gap ≥ ~1e-3) stays on Lanczos;
     * one whose gap is too small to certify the subspace to 1e-7 goes dense. The warm start is nearly the answer, so
     * the block is K + 4 and three Krylov blocks per restart cost least.
     */
    public static Options defaults() {
      return new Options(1e-10, 200, 1e-7);
    }

    public double maxSinBound() {
      return maxSinBound;
    }

    PartialSymmetricEigen.Options lanczos() {
      return new PartialSymmetricEigen.Options(tolerance, maxRestarts, 4, 3, 0x5EEDL);
    }
  }

  /** One leave-one-out fold. */
  public static final class Fold {
    /** ‖W_i − recon‖_F / ‖W_i‖_F of the removed vectors with the fold's mean and top-K components. */
    public final double heldOutError;
    /** The fold's top eigenvalues, descending (length {@link #components}). */
    public final double[] eigenvalues;
    /** The fold's components in the original coordinates (d × components), or null when not asked for. */
    public final DenseMatrix basis;
    /** K used in this fold: the K asked for, or less when the fold has fewer components. */
    public final int components;
    /** Lanczos restarts (0 when Lanczos was not tried). */
    public final int restarts;
    public final Solver solver;
    /**
     * Relative gap at K, {@code (λ_K − λ_{K+1}) / λ_1} of the fold's scatter (λ_{K+1} = 0 past the fold's rank); 0
     * when the scatter is zero; NaN when K is the whole space (the subspace is then determined). For
     * {@link Solver#LANCZOS} λ_{K+1} is the (K+1)-th Ritz value, accurate to its residual.
     */
    public final double gap;
    /**
     * Wall time of the fold's phases in nanoseconds, indexed by {@link Phase#ordinal()}: where a fold's time goes
     * (the job's report sums them). {@link Phase#BASIS} is 0 when the basis was not asked for.
     */
    public final long[] phaseNanos;

    Fold(double heldOutError, double[] eigenvalues, DenseMatrix basis, int components, int restarts, Solver solver,
        double gap, long[] phaseNanos) {
      this.heldOutError = heldOutError;
      this.eigenvalues = eigenvalues;
      this.basis = basis;
      this.components = components;
      this.restarts = restarts;
      this.solver = solver;
      this.gap = gap;
      this.phaseNanos = phaseNanos;
    }

    /** Seconds of one phase. */
    public double seconds(Phase p) {
      return phaseNanos[p.ordinal()] / 1e9;
    }
  }

  /** The phases of a fold, in order. */
  public enum Phase {
    /** {@code m = Qᵀ M_i} and the centring terms: d²·r_i flops. */
    PROJECT,
    /** The fold's top K: Lanczos on the diagonal-plus-low-rank operator, or the dense fallback. */
    SOLVE,
    /** The held-out error in the eigenbasis. */
    ERROR,
    /** {@code Q Y}, the components in the original coordinates (d²·K flops): only when asked for. */
    BASIS;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The fold without the vectors {@code removed} (d × r_i) of one adapter: its top-K basis (by the solver contract
   * above) and the removed adapter's held-out error, computed without leaving the eigenbasis.
   */
  public static Fold fold(AdapterPca.Eigenbasis e, DenseMatrix removed, int k, Options options,
      boolean wantBasis) {
    int d = e.q.rows();
    int r = removed.cols();
    long n = e.count - r;
    if (n < (e.center ? 2 : 1)) {
      throw new ArgumentException("Leave-one-out needs at least 2 adapters: without this one " + n
          + " vectors remain");
    }
    if (removed.rows() != d) {
      throw new ArgumentException("Removed vectors have dim " + removed.rows() + ", the eigenbasis " + d);
    }
    int kf = (int) Math.min(k, Math.min(d, e.center ? n - 1 : n));
    long[] phase = new long[Phase.values().length];
    long p0 = System.nanoTime();
    DenseMatrix m = Matrices.multiply(e.q, true, removed, false); // Qᵀ M_i (d × r)
    double[] s = new double[d];
    double[] si = new double[d];
    if (e.center) {
      for (int i = 0; i < d; i++) {
        s[i] = e.qtSum[i];
        double sub = 0;
        for (int j = 0; j < r; j++) {
          sub += m.get(i, j);
        }
        si[i] = s[i] - sub;
      }
    }
    double invN = e.center ? 1.0 / e.count : 0;
    double invNi = e.center ? 1.0 / n : 0;
    Downdate f = new Downdate(e.values, m, s, si, invN, invNi);
    long p1 = System.nanoTime();
    phase[Phase.PROJECT.ordinal()] = p1 - p0;

    Solver solver;
    DenseMatrix y;
    double[] values;
    double gap;
    int restarts = 0;
    PartialSymmetricEigen.Result res = null;
    if (kf < d) {
      DenseMatrix warm = DenseMatrix.zeros(d, kf);
      for (int j = 0; j < kf; j++) {
        warm.set(j, j, 1.0);
      }
      try {
        res = PartialSymmetricEigen.solve(f, kf, PartialSymmetricEigen.Which.LARGEST, warm, options.lanczos());
      } catch (StateException notConverged) {
        res = null;
      }
    }
    if (res != null && certified(res, kf, options.maxSinBound)) {
      solver = Solver.LANCZOS;
      y = res.vectors();
      values = res.values();
      restarts = res.restarts();
      gap = relativeGap(values[0], values[kf - 1], res.next());
    } else {
      solver = kf == d ? Solver.DENSE : res == null ? Solver.DENSE_NOT_CONVERGED : Solver.DENSE_SMALL_GAP;
      restarts = res == null ? 0 : res.restarts();
      SymmetricEigen.Result top = SymmetricEigen.range(f.dense(), Math.max(0, d - kf - 1), d).descending();
      y = top.vectors().columns(0, kf);
      values = java.util.Arrays.copyOf(top.values(), kf);
      gap = kf == d ? Double.NaN : relativeGap(top.values()[0], top.values()[kf - 1], top.values()[kf]);
    }
    long p2 = System.nanoTime();
    phase[Phase.SOLVE.ordinal()] = p2 - p1;
    // Held-out error: c = Qᵀ(w − μ_i) = m − s_i/n_i per column; residual c − Y Yᵀ c; ‖w‖ from the original.
    DenseMatrix c = m.copy();
    if (e.center) {
      for (int j = 0; j < r; j++) {
        for (int i = 0; i < d; i++) {
          c.add(i, j, -si[i] * invNi);
        }
      }
    }
    DenseMatrix yc = Matrices.multiply(y, true, c, false);
    Matrices.multiply(-1.0, y, false, yc, false, 1.0, c);
    double norm = removed.frobeniusNorm();
    double err = norm == 0 ? 0 : c.frobeniusNorm() / norm;
    long p3 = System.nanoTime();
    phase[Phase.ERROR.ordinal()] = p3 - p2;
    DenseMatrix basis = wantBasis ? Matrices.multiply(e.q, y) : null;
    phase[Phase.BASIS.ordinal()] = wantBasis ? System.nanoTime() - p3 : 0;
    return new Fold(err, values, basis, kf, restarts, solver, gap, phase);
  }

  /** Whether a converged Lanczos result's subspace is certified to {@code maxSin} by residual / gap lower bound. */
  static boolean certified(PartialSymmetricEigen.Result res, int k, double maxSin) {
    double top = res.values()[0];
    if (!(top > 0)) {
      return true; // a zero (or numerically zero) scatter: every subspace is exact
    }
    if (Double.isNaN(res.next())) {
      return false;
    }
    double gapLower = (res.values()[k - 1] - res.next() - res.nextResidual() * top) / top;
    return gapLower > 0 && res.relativeResidual() <= maxSin * gapLower;
  }

  /** {@code (λ_K − λ_{K+1}) / λ_1}, with a zero or negative λ_{K+1} read as 0; 0 when λ_1 ≤ 0. */
  static double relativeGap(double first, double kth, double next) {
    if (!(first > 0)) {
      return 0;
    }
    return Math.max(0, kth - Math.max(0, next)) / first;
  }

  /** The fold's scatter in the eigenbasis as an operator (never formed) and, for the fallback, as a matrix. */
  private static final class Downdate implements SymmetricOperator {
    private final double[] lambda;
    private final DenseMatrix m;
    private final DenseMatrix sv;
    private final DenseMatrix siv;
    private final double invN;
    private final double invNi;

    Downdate(double[] lambda, DenseMatrix m, double[] s, double[] si, double invN, double invNi) {
      this.lambda = lambda;
      this.m = m;
      this.sv = DenseMatrix.wrap(s.length, 1, s);
      this.siv = DenseMatrix.wrap(si.length, 1, si);
      this.invN = invN;
      this.invNi = invNi;
    }

    @Override
    public int dim() {
      return lambda.length;
    }

    @Override
    public void apply(DenseMatrix x, DenseMatrix out) {
      int d = lambda.length;
      int b = x.cols();
      double[] xd = x.data();
      double[] od = out.data();
      for (int j = 0; j < b; j++) {
        for (int i = 0; i < d; i++) {
          od[i + j * d] = lambda[i] * xd[i + j * d];
        }
      }
      DenseMatrix mx = Matrices.multiply(m, true, x, false);
      Matrices.multiply(-1.0, m, false, mx, false, 1.0, out);
      if (invN != 0) {
        DenseMatrix sx = Matrices.multiply(sv, true, x, false);
        Matrices.multiply(invN, sv, false, sx, false, 1.0, out);
        DenseMatrix six = Matrices.multiply(siv, true, x, false);
        Matrices.multiply(-invNi, siv, false, six, false, 1.0, out);
      }
    }

    /** F as a dense d × d matrix (both triangles). */
    DenseMatrix dense() {
      int d = lambda.length;
      DenseMatrix a = DenseMatrix.zeros(d, d);
      for (int i = 0; i < d; i++) {
        a.set(i, i, lambda[i]);
      }
      Matrices.multiply(-1.0, m, false, m, true, 1.0, a);
      if (invN != 0) {
        Matrices.multiply(invN, sv, false, sv, true, 1.0, a);
        Matrices.multiply(-invNi, siv, false, siv, true, 1.0, a);
      }
      return a;
    }
  }
}
