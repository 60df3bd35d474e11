package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;

/** Comparisons of subspaces given by orthonormal bases. */
public final class Subspaces {
  private Subspaces() {}

  /**
   * The sine of the largest principal angle between span(U) and span(V) (orthonormal columns, same count):
   * {@code ‖V − U Uᵀ V‖₂}, accurate for tiny angles (unlike {@code √(1 − σ_min(UᵀV)²)}).
   */
  public static double maxSinPrincipalAngle(DenseMatrix u, DenseMatrix v) {
    if (u.rows() != v.rows() || u.cols() != v.cols()) {
      throw new ArgumentException("Subspaces of " + u.shapeString() + " and " + v.shapeString() + " differ in shape");
    }
    DenseMatrix r = v.copy();
    DenseMatrix utv = Matrices.multiply(u, true, v, false);
    Matrices.multiply(-1.0, u, false, utv, false, 1.0, r);
    if (r.cols() == 0) {
      return 0;
    }
    double[] s = ThinSvd.of(r).singularValues();
    return s.length == 0 ? 0 : Math.min(1.0, s[0]);
  }
}
