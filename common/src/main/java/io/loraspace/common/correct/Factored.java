package io.loraspace.common.correct;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/** Small kernels of the factored computations: inner products of products of thin matrices through r×r Grams. */
final class Factored {
  private Factored() {}

  /** {@code Σ_ij x_ij y_ij = tr(Xᵀ Y)}, the Frobenius inner product; shapes must agree. */
  static double inner(DenseMatrix x, DenseMatrix y) {
    if (x.rows() != y.rows() || x.cols() != y.cols()) {
      throw new IllegalArgumentException("Shapes differ: " + x.shapeString() + " and " + y.shapeString());
    }
    double s = 0;
    double[] a = x.data();
    double[] b = y.data();
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /**
   * {@code ⟨L₁ R₁, L₂ R₂⟩_F = Σ_ij (L₁ᵀ L₂)_ij (R₁ R₂ᵀ)_ij} for L out×p, R p×in: never forms an out×in matrix.
   */
  static double innerOfProducts(DenseMatrix l1, DenseMatrix r1, DenseMatrix l2, DenseMatrix r2) {
    DenseMatrix ll = Matrices.multiply(l1, true, l2, false); // p1×p2
    DenseMatrix rr = Matrices.multiply(r1, false, r2, true); // p1×p2
    return inner(ll, rr);
  }
}
