package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import java.util.Locale;

/**
 * Which solver finds the r algebraically largest eigenpairs of a symmetric matrix: LAPACK {@code dsyevr} restricted
 * to the wanted index range (FULL: tridiagonal reduction of the whole matrix, exact, cost independent of the
 * spectrum), the thick-restart block Lanczos solver (PARTIAL: matrix products only; much faster when r ≪ d and the
 * spectrum has a gap at r, hopeless when r cuts through a cluster), or AUTO: Lanczos when d ≥ 512 and r ≤ d/64,
 * limited to {@link #AUTO_RESTARTS} restarts, falling back to FULL when it has not converged by then (docs/init.md,
 * docs/benchmarks.md).
 */
public enum EigenSolver {
  AUTO, FULL, PARTIAL;

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

  private Solved solve(DenseMatrix a, int r, PartialSymmetricEigen.Which which) {
    boolean largest = which == PartialSymmetricEigen.Which.LARGEST;
    EigenSolver pick = resolve(a.rows(), r);
    if (pick == PARTIAL) {
      PartialSymmetricEigen.Options o = PartialSymmetricEigen.Options.defaults();
      if (this == AUTO) {
        o = o.withMaxRestarts(AUTO_RESTARTS);
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
}
