package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;

/**
 * Orthonormalises blocks of vectors by classical Gram–Schmidt applied twice (CGS2, "twice is enough"), optionally
 * against an existing orthonormal basis first. A column whose norm after projection falls below {@code dropTolerance}
 * times its original norm is numerically dependent and is dropped; the result reports how many columns survived.
 */
public final class Orthonormalizer {
  private Orthonormalizer() {}

  /** Default relative norm below which a projected column counts as dependent. */
  public static final double DEFAULT_DROP_TOLERANCE = 1e-10;

  /**
   * Orthonormalises the columns of {@code x} against {@code basis} (orthonormal columns, may be null or empty) and
   * each other.
   *
   * @return a new matrix with the surviving orthonormal columns (possibly fewer than x has)
   */
  public static DenseMatrix orthonormalize(DenseMatrix x, DenseMatrix basis, double dropTolerance) {
    int n = x.rows();
    if (basis != null && basis.rows() != n && basis.cols() > 0) {
      throw new ArgumentException("Basis has " + basis.rows() + " rows, vectors " + n);
    }
    DenseMatrix w = x.copy();
    if (basis != null && basis.cols() > 0) {
      // w -= B (Bᵀ w), twice.
      for (int pass = 0; pass < 2; pass++) {
        DenseMatrix c = Matrices.multiply(basis, true, w, false);
        Matrices.multiply(-1.0, basis, false, c, false, 1.0, w);
      }
    }
    double[] a = w.data();
    int kept = 0;
    for (int j = 0; j < w.cols(); j++) {
      int src = j * n;
      double orig = norm(x.data(), j * n, n);
      // Project against the kept columns [0, kept), twice.
      for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < kept; p++) {
          double dot = 0;
          int q = p * n;
          for (int i = 0; i < n; i++) {
            dot += a[q + i] * a[src + i];
          }
          for (int i = 0; i < n; i++) {
            a[src + i] -= dot * a[q + i];
          }
        }
      }
      double nrm = 0;
      for (int i = 0; i < n; i++) {
        nrm += a[src + i] * a[src + i];
      }
      nrm = Math.sqrt(nrm);
      if (nrm <= dropTolerance * orig || nrm == 0.0) {
        continue;
      }
      int dst = kept * n;
      for (int i = 0; i < n; i++) {
        a[dst + i] = a[src + i] / nrm;
      }
      kept++;
    }
    return w.columns(0, kept);
  }

  private static double norm(double[] original, int offset, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += original[offset + i] * original[offset + i];
    }
    return Math.sqrt(s);
  }
}
