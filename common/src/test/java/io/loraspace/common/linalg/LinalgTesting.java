package io.loraspace.common.linalg;

import java.util.Random;

/** Random inputs with planted spectra and naive references for the solver tests. */
public final class LinalgTesting {
  private LinalgTesting() {}

  public static DenseMatrix gaussian(int r, int c, Random rnd) {
    DenseMatrix m = DenseMatrix.zeros(r, c);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextGaussian();
    }
    return m;
  }

  /** A random orthogonal n×n matrix (QR of a Gaussian, computed by naive modified Gram–Schmidt). */
  public static DenseMatrix orthogonal(int n, Random rnd) {
    DenseMatrix q = gaussian(n, n, rnd);
    for (int j = 0; j < n; j++) {
      for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < j; p++) {
          double dot = 0;
          for (int i = 0; i < n; i++) {
            dot += q.get(i, p) * q.get(i, j);
          }
          for (int i = 0; i < n; i++) {
            q.add(i, j, -dot * q.get(i, p));
          }
        }
      }
      double nrm = 0;
      for (int i = 0; i < n; i++) {
        nrm += q.get(i, j) * q.get(i, j);
      }
      nrm = Math.sqrt(nrm);
      for (int i = 0; i < n; i++) {
        q.set(i, j, q.get(i, j) / nrm);
      }
    }
    return q;
  }

  /** Q diag(values) Qᵀ with naive loops. */
  public static DenseMatrix withSpectrum(double[] values, DenseMatrix q) {
    int n = values.length;
    DenseMatrix a = DenseMatrix.zeros(n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < n; k++) {
          s += q.get(i, k) * values[k] * q.get(j, k);
        }
        a.set(i, j, s);
      }
    }
    return a;
  }

  /** Naive product. */
  public static DenseMatrix naiveMultiply(DenseMatrix a, DenseMatrix b) {
    DenseMatrix c = DenseMatrix.zeros(a.rows(), b.cols());
    for (int i = 0; i < a.rows(); i++) {
      for (int j = 0; j < b.cols(); j++) {
        double s = 0;
        for (int k = 0; k < a.cols(); k++) {
          s += a.get(i, k) * b.get(k, j);
        }
        c.set(i, j, s);
      }
    }
    return c;
  }

  /**
   * Sine of the largest principal angle between the spans of orthonormal u and v (same dimension): the largest
   * singular value of (I − U Uᵀ) V. Computed this way (not as sqrt(1 − cos²)) it is accurate for tiny angles.
   */
  public static double maxSinPrincipalAngle(DenseMatrix u, DenseMatrix v) {
    DenseMatrix proj = naiveMultiply(u, naiveMultiply(u.transpose(), v));
    DenseMatrix r = v.copy();
    for (int i = 0; i < r.data().length; i++) {
      r.data()[i] -= proj.data()[i];
    }
    double[] s = ThinSvd.of(r).singularValues();
    return s.length == 0 ? 0 : s[0];
  }

  /** Eigenvalues of a small symmetric matrix by the cyclic Jacobi method (naive reference), ascending. */
  public static double[] jacobiEigenvalues(DenseMatrix m) {
    int n = m.rows();
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a[i][j] = m.get(i, j);
      }
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          off += a[i][j] * a[i][j];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (Math.abs(a[p][q]) < 1e-300) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < n; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
          }
          for (int k = 0; k < n; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
          }
        }
      }
    }
    double[] ev = new double[n];
    for (int i = 0; i < n; i++) {
      ev[i] = a[i][i];
    }
    java.util.Arrays.sort(ev);
    return ev;
  }
}
