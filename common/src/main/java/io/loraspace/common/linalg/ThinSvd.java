package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import org.netlib.util.intW;

/**
 * Thin SVD {@code A = U diag(s) Vᵀ} of an m×n matrix with LAPACK {@code dgesdd}: k = min(m, n), U m×k and V n×k with
 * orthonormal columns, singular values descending. The input is not modified.
 */
public final class ThinSvd {
  private final DenseMatrix u;
  private final double[] s;
  private final DenseMatrix v;

  private ThinSvd(DenseMatrix u, double[] s, DenseMatrix v) {
    this.u = u;
    this.s = s;
    this.v = v;
  }

  public DenseMatrix u() {
    return u;
  }

  public double[] singularValues() {
    return s;
  }

  /** V (n×k), i.e. the transpose of LAPACK's VT. */
  public DenseMatrix v() {
    return v;
  }

  public static ThinSvd of(DenseMatrix a) {
    int m = a.rows();
    int n = a.cols();
    int k = Math.min(m, n);
    if (k == 0) {
      return new ThinSvd(DenseMatrix.zeros(m, 0), new double[0], DenseMatrix.zeros(n, 0));
    }
    for (double x : a.data()) {
      if (!Double.isFinite(x)) {
        throw new ArgumentException("Matrix for SVD holds a non-finite value " + x);
      }
    }
    double[] f = a.data().clone();
    double[] s = new double[k];
    double[] u = new double[m * k];
    double[] vt = new double[k * n];
    int[] iwork = new int[8 * k];
    intW info = new intW(0);
    double[] wq = new double[1];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dgesdd("S", m, n, f, m, s, u, m, vt, k, wq, -1, iwork, info);
    }
    double[] work = new double[Math.max(1, (int) wq[0])];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dgesdd("S", m, n, f, m, s, u, m, vt, k, work, work.length, iwork, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dgesdd failed with info = " + info.val + " (" + m + "×" + n + ")");
    }
    return new ThinSvd(DenseMatrix.wrap(m, k, u), s, DenseMatrix.wrap(k, n, vt).transpose());
  }
}
