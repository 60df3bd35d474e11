package io.loraspace.common.init;

import io.loraspace.common.linalg.DenseMatrix;

/** Shared factor shapes. */
final class Factorizations {
  private Factorizations() {}

  /** {@code A = √(S/s) Vᵀ} (r×in), {@code B = U √(S/s)} (out×r): PEFT's balanced split of {@code U S Vᵀ}. */
  static InitFactors balanced(DenseMatrix u, double[] s, DenseMatrix v, double scaling, double[] spectrum) {
    int r = s.length;
    int out = u.rows();
    int in = v.rows();
    DenseMatrix a = DenseMatrix.zeros(r, in);
    DenseMatrix b = DenseMatrix.zeros(out, r);
    for (int k = 0; k < r; k++) {
      double root = Math.sqrt(s[k] / scaling);
      for (int j = 0; j < in; j++) {
        a.set(k, j, root * v.get(j, k));
      }
      for (int i = 0; i < out; i++) {
        b.set(i, k, root * u.get(i, k));
      }
    }
    return new InitFactors(a, b, scaling, true, spectrum);
  }
}
