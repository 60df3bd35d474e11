package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.GramTopSvd;
import io.loraspace.common.linalg.LinearOperator;
import io.loraspace.common.linalg.PartialSvd;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import io.loraspace.common.linalg.ThinSvd;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which solver finds the r algebraically largest eigenpairs of a symmetric matrix: LAPACK {@code dsyevr} restricted
 * to the wanted index range (FULL: tridiagonal reduction of the whole matrix, exact, cost independent of the
 * spectrum), the thick-restart block Lanczos solver (PARTIAL: matrix products only; much faster when r ≪ d and the
 * spectrum has a gap at r, hopeless when r cuts through a cluster), or AUTO: Lanczos when d ≥ 512 and r ≤ d/64,
 * limited to {@link #AUTO_RESTARTS} restarts, falling back to FULL when it has not converged by then (docs/init.md,
 * docs/benchmarks.md).
 *
 * <p>The same choice serves the r largest or smallest singular triplets ({@link #svdTop}, {@link #svdBottom}) with k =
 * min(m, n) in place of d: FULL is a direct factorization (the largest: {@link GramTopSvd}, one tridiagonal reduction
 * of the smaller Gram matrix, every singular value and r vector pairs; the smallest, or the largest when σ_r is
 * below 1e-4·σ₁: LAPACK {@code dgesdd}, all triplets), PARTIAL is {@link PartialSvd}, whose
 * results are also verified by a bound on sin θ; AUTO falls back to FULL when PARTIAL does not converge or its bound
 * is not met, logs why, and says so ("partial→full"). For the largest triplets of a matrix already formed whose full
 * route is small ({@link #SMALL_FORMED_TOP_FLOPS}: up to about 1024 × 1536) AUTO takes FULL at once.
 */
public enum EigenSolver {
  AUTO, FULL, PARTIAL;

  private static final Logger LOG = LoggerFactory.getLogger(EigenSolver.class);

  public static EigenSolver parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ArgumentException("Unknown eigensolver '" + s + "', expected auto, full or partial");
    }
  }

  /** Restarts AUTO allows the Lanczos solver before it falls back to dsyevr. */
  public static final int AUTO_RESTARTS = 12;

  /** The solver AUTO tries first for a d×d problem with r pairs. */
  public EigenSolver resolve(int d, int r) {
    if (this != AUTO) {
      return this;
    }
    return d >= 512 && 64L * r <= d ? PARTIAL : FULL;
  }

  /** The r algebraically largest pairs of symmetric {@code a}, descending. */
  public SymmetricEigen.Result top(DenseMatrix a, int r) {
    return solve(a, r).result;
  }

  /** A result and the solver that produced it ("full", "partial", or "partial→full" after a fallback). */
  public static final class Solved {
    public final SymmetricEigen.Result result;
    public final String solver;

    Solved(SymmetricEigen.Result result, String solver) {
      this.result = result;
      this.solver = solver;
    }
  }

  /** Like {@link #top}, saying which solver answered. */
  public Solved solve(DenseMatrix a, int r) {
    return solve(a, r, PartialSymmetricEigen.Which.LARGEST);
  }

  /** The r algebraically smallest pairs of symmetric {@code a}, ascending, saying which solver answered. */
  public Solved solveBottom(DenseMatrix a, int r) {
    return solve(a, r, PartialSymmetricEigen.Which.SMALLEST);
  }

  /** Krylov blocks per restart for the smallest pairs (the largest use the default, 6). */
  static final int BOTTOM_KRYLOV_BLOCKS = 10;

  private Solved solve(DenseMatrix a, int r, PartialSymmetricEigen.Which which) {
    boolean largest = which == PartialSymmetricEigen.Which.LARGEST;
    EigenSolver pick = resolve(a.rows(), r);
    if (pick == PARTIAL) {
      PartialSymmetricEigen.Options o = PartialSymmetricEigen.Options.defaults();
      if (this == AUTO) {
        o = o.withMaxRestarts(AUTO_RESTARTS);
      }
      if (!largest) {
        // The bottom of LoRA-DA's Ω is clustered (relative gap ~1e-3 of its spread): a deeper Krylov space per
        // restart pays for itself (docs/benchmarks.md, "init": 10 blocks fastest of 6/10/16 on two machines).
        o = o.withKrylovBlocks(BOTTOM_KRYLOV_BLOCKS);
      }
      try {
        PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(SymmetricOperator.of(a), r, which, null, o);
        return new Solved(new SymmetricEigen.Result(p.values(), p.vectors()), "partial");
      } catch (StateException notConverged) {
        if (this != AUTO) {
          throw notConverged;
        }
        return new Solved(dense(a, r, largest), "partial→full");
      }
    }
    return new Solved(dense(a, r, largest), "full");
  }

  private static SymmetricEigen.Result dense(DenseMatrix a, int r, boolean largest) {
    return largest ? SymmetricEigen.top(a, r) : SymmetricEigen.bottom(a, r);
  }

  /** Singular triplets in descending order of σ, and the solver that produced them. */
  public static final class SvdSolved {
    /** m×r and n×r, orthonormal columns. */
    public final DenseMatrix u;
    public final DenseMatrix v;
    /** The r singular values, descending. */
    public final double[] values;
    /** Every singular value when the full SVD answered, else the r found (for reports). */
    public final double[] spectrum;
    /** "full", "partial" or "partial→full". */
    public final String solver;
    /** Why AUTO fell back to the full SVD; null otherwise. */
    public final String fallbackReason;

    SvdSolved(DenseMatrix u, double[] values, DenseMatrix v, double[] spectrum, String solver, String fallbackReason) {
      this.u = u;
      this.v = v;
      this.values = values;
      this.spectrum = spectrum;
      this.solver = solver;
      this.fallbackReason = fallbackReason;
    }
  }

  /** The r largest singular triplets of dense {@code a}. */
  public SvdSolved svdTop(DenseMatrix a, int r) {
    return svd(LinearOperator.of(a), () -> a, r, PartialSvd.Which.LARGEST, true);
  }

  /**
   * The r largest singular triplets of {@code a}; PARTIAL applies the operator only, FULL (and a fallback) takes the
   * SVD of {@code dense.get()}, the same matrix formed.
   */
  public SvdSolved svdTop(LinearOperator a, Supplier<DenseMatrix> dense, int r) {
    return svd(a, dense, r, PartialSvd.Which.LARGEST, false);
  }

  /** The r smallest of the min(m, n) singular triplets of dense {@code a}, in descending order of σ. */
  public SvdSolved svdBottom(DenseMatrix a, int r) {
    return svd(LinearOperator.of(a), () -> a, r, PartialSvd.Which.SMALLEST, true);
  }

  /**
   * The full route's flops ({@link #topRestartBudget}'s model) under which AUTO takes it at once for the largest
   * triplets of a matrix already formed (PiSSA's weight, LoRA-One's gradient): about 0.1 s of {@code dsyrk} and
   * {@code dsytrd} here, and a partial attempt's own fixed costs are of that order, so it could save little and a
   * refused one doubles the work. Measured on PiSSA at hidden 1024 × 4 layers (random weights, every 1024-wide
   * module's attempt refused after 2 restarts): ≈ 0.1 s per refused attempt against the model's 0.02 s (the Lanczos
   * Java code runs before the JIT has compiled it in a short-lived JVM); {@code init} 7.6 / 8.5 s with
   * {@code eigensolver=full} against 8.9 / 10.3 s with {@code auto}. An operator that the full route must first form
   * (CorDA's W·C) keeps the attempt: forming it is part of the full route's cost.
   */
  static final double SMALL_FORMED_TOP_FLOPS = 6e9;

  private SvdSolved svd(LinearOperator a, Supplier<DenseMatrix> dense, int r, PartialSvd.Which which,
      boolean formed) {
    int k = Math.min(a.rows(), a.cols());
    if (this == AUTO && formed && which == PartialSvd.Which.LARGEST
        && fullTopFlops(a.rows(), a.cols()) <= SMALL_FORMED_TOP_FLOPS) {
      return fullSvd(dense.get(), r, which, "full", null);
    }
    if (resolve(k, r) == PARTIAL) {
      PartialSymmetricEigen.Options o = PartialSvd.defaultOptions();
      if (this == AUTO) {
        // A refused attempt costs what it ran: stop once the residual's rate projects past the budget, which for the
        // largest triplets is also what keeps the attempt cheaper than the full route it would fall back to.
        int budget = which == PartialSvd.Which.LARGEST ? topRestartBudget(a.rows(), a.cols(), r, o) : AUTO_RESTARTS;
        o = o.withMaxRestarts(budget).withEarlyGiveUp();
      }
      try {
        PartialSvd.Result p = which == PartialSvd.Which.LARGEST
            ? PartialSvd.largest(a, r, o, PartialSvd.DEFAULT_MAX_SIN_THETA)
            : PartialSvd.smallest(dense.get(), r, o, PartialSvd.DEFAULT_MAX_SIN_THETA);
        return new SvdSolved(p.u(), p.values(), p.v(), p.values(), "partial", null);
      } catch (StateException notVerified) {
        if (this != AUTO) {
          throw notVerified;
        }
        LOG.info("eigensolver=auto: {} {} singular triplets of a {}×{} matrix: partial route refused ({}); using the "
            + "full SVD", which == PartialSvd.Which.LARGEST ? "largest" : "smallest", r, a.rows(), a.cols(),
            notVerified.getMessage());
        return fullSvd(dense.get(), r, which, "partial→full", notVerified.getMessage());
      }
    }
    return fullSvd(dense.get(), r, which, "full", null);
  }

  /**
   * Restarts a partial attempt at the r largest triplets of an m×n matrix may run (2 to {@link #AUTO_RESTARTS}): the
   * two its early give-up needs to measure the residual's rate, then as many as the full route ({@link GramTopSvd}) it
   * would fall back to costs, so that an attempt continued after the rate is known is projected cheaper than giving up
   * then. Flop model: full ≈ k²·l for the Gram ({@code dsyrk}) + 2 · (4/3)·k³ for its tridiagonal reduction
   * ({@code dsytrd}, half matrix-vector products, counted twice for their memory-bound rate), with k = min(m, n),
   * l = max(m, n); a restart ≈ c operator columns of 4·k·l flops each (A then Aᵀ) + 4·k·c² for orthonormalization and
   * Rayleigh–Ritz, c = Krylov blocks × block size. At 1536 × 1024, r = 8 that is 8 restarts; at 1024 × 512, 4.
   */
  static int topRestartBudget(int m, int n, int r, PartialSymmetricEigen.Options o) {
    double k = Math.min(m, n);
    double l = Math.max(m, n);
    double c = o.columnsPerRestart((int) k, r);
    double full = fullTopFlops(m, n);
    double restart = c * (4 * k * l + 4 * k * c);
    return (int) Math.max(2, Math.min(AUTO_RESTARTS, Math.floor(full / restart) + 2));
  }

  /** The flop model of the full route to the largest triplets of an m×n matrix ({@link #topRestartBudget}). */
  static double fullTopFlops(int m, int n) {
    double k = Math.min(m, n);
    double l = Math.max(m, n);
    return k * k * l + 2 * (4.0 / 3.0) * k * k * k;
  }

  private static SvdSolved fullSvd(DenseMatrix a, int r, PartialSvd.Which which, String solver, String reason) {
    if (which == PartialSvd.Which.LARGEST) {
      // The largest triplets from the smaller Gram matrix: a fraction of dgesdd's work when r ≪ k (GramTopSvd says
      // how accurate); dgesdd when σ_r is too far below σ₁ for U = A V Σ⁻¹.
      GramTopSvd g = GramTopSvd.of(a, r);
      if (g.resolved()) {
        return new SvdSolved(g.u(), g.values(), g.v(), g.spectrum(), solver, reason);
      }
    }
    ThinSvd svd = ThinSvd.of(a);
    int k = svd.singularValues().length;
    int from = which == PartialSvd.Which.LARGEST ? 0 : k - r;
    return new SvdSolved(svd.u().columns(from, from + r), Arrays.copyOfRange(svd.singularValues(), from, from + r),
        svd.v().columns(from, from + r), svd.singularValues(), solver, reason);
  }
}
