package io.loraspace.common.linalg;

import io.loraspace.common.error.StateException;
import org.netlib.util.intW;

/** Thin QR of an m×n matrix (m ≥ n or not): {@code A = Q R}, Q m×k with orthonormal columns, R k×n upper triangular, k = min(m, n). LAPACK dgeqrf + dorgqr. */
public final class Qr {
  private final DenseMatrix q;
  private final DenseMatrix r;

  private Qr(DenseMatrix q, DenseMatrix r) {
    this.q = q;
    this.r = r;
  }

  public DenseMatrix q() {
    return q;
  }

  public DenseMatrix r() {
    return r;
  }

  /** Factors {@code a} (not modified). */
  public static Qr of(DenseMatrix a) {
    int m = a.rows();
    int n = a.cols();
    int k = Math.min(m, n);
    if (k == 0) {
      return new Qr(DenseMatrix.zeros(m, 0), DenseMatrix.zeros(0, n));
    }
    double[] f = a.data().clone();
    double[] tau = new double[k];
    intW info = new intW(0);
    double[] wq = new double[1];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dgeqrf(m, n, f, m, tau, wq, -1, info);
    }
    double[] work = new double[Math.max(1, (int) wq[0])];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dgeqrf(m, n, f, m, tau, work, work.length, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dgeqrf failed with info = " + info.val);
    }
    DenseMatrix r = DenseMatrix.zeros(k, n);
    for (int j = 0; j < n; j++) {
      for (int i = 0; i <= Math.min(j, k - 1); i++) {
        r.set(i, j, f[i + j * m]);
      }
    }
    double[] qd = java.util.Arrays.copyOf(f, m * k);
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dorgqr(m, k, k, qd, m, tau, wq, -1, info);
    }
    work = new double[Math.max(1, (int) wq[0])];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dorgqr(m, k, k, qd, m, tau, work, work.length, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dorgqr failed with info = " + info.val);
    }
    return new Qr(DenseMatrix.wrap(m, k, qd), r);
  }
}
