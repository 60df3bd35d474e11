package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import java.util.Locale;

/**
 * Which solver finds the r algebraically largest eigenpairs of a symmetric matrix: LAPACK {@code dsyevr} restricted
 * to the wanted index range (FULL: tridiagonal reduction of the whole matrix, exact), the thick-restart block Lanczos
 * solver (PARTIAL: matrix products only; fast when r ≪ d), or AUTO (PARTIAL when d ≥ 512 and r ≤ d/8).
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

  /** The solver AUTO picks for a d×d problem with r pairs. */
  public EigenSolver resolve(int d, int r) {
    if (this != AUTO) {
      return this;
    }
    return d >= 512 && 8L * r <= d ? PARTIAL : FULL;
  }

  /** The r algebraically largest pairs of symmetric {@code a}, descending. */
  public SymmetricEigen.Result top(DenseMatrix a, int r) {
    if (resolve(a.rows(), r) == PARTIAL) {
      PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(a, r, PartialSymmetricEigen.Which.LARGEST);
      return new SymmetricEigen.Result(p.values(), p.vectors());
    }
    return SymmetricEigen.top(a, r);
  }
}
