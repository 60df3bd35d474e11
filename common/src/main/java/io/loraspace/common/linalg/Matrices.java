package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;

/** BLAS-backed operations on {@link DenseMatrix}, in output-parameter style where allocation matters. */
public final class Matrices {
  private Matrices() {}

  private static int rowsOf(DenseMatrix m, boolean t) {
    return t ? m.cols() : m.rows();
  }

  private static int colsOf(DenseMatrix m, boolean t) {
    return t ? m.rows() : m.cols();
  }

  /**
   * {@code out = alpha · op(a) · op(b) + beta · out} with op = transpose when the flag is set (dgemm). {@code out} is
   * modified; it must not share storage with a or b.
   */
  public static void multiply(double alpha, DenseMatrix a, boolean transA, DenseMatrix b, boolean transB, double beta,
      DenseMatrix out) {
    int m = rowsOf(a, transA);
    int k = colsOf(a, transA);
    int n = colsOf(b, transB);
    if (rowsOf(b, transB) != k || out.rows() != m || out.cols() != n) {
      throw new ArgumentException("Cannot multiply op(A) " + m + "×" + k + " by op(B) " + rowsOf(b, transB) + "×" + n
          + " into " + out.shapeString());
    }
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      scale(beta, out);
      return;
    }
    Blas.blas().dgemm(transA ? "T" : "N", transB ? "T" : "N", m, n, k, alpha, a.data(), Math.max(1, a.rows()),
        b.data(), Math.max(1, b.rows()), beta, out.data(), Math.max(1, out.rows()));
  }

  /**
   * Upper triangle of {@code c = alpha · a · aᵀ + beta · c} (dsyrk, half the flops of the dgemm); the strict lower
   * triangle of {@code c} is neither read nor written (see {@link DenseMatrix#symmetrizeFromUpper()}).
   */
  public static void syrkUpper(double alpha, DenseMatrix a, double beta, DenseMatrix c) {
    int n = a.rows();
    int k = a.cols();
    if (c.rows() != n || c.cols() != n) {
      throw new ArgumentException("Cannot add A·Aᵀ of A " + a.shapeString() + " into " + c.shapeString());
    }
    if (n == 0) {
      return;
    }
    if (k == 0) {
      scale(beta, c);
      return;
    }
    Blas.blas().dsyrk("U", "N", n, k, alpha, a.data(), n, beta, c.data(), n);
  }

  /** A new matrix op(a) · op(b). */
  public static DenseMatrix multiply(DenseMatrix a, boolean transA, DenseMatrix b, boolean transB) {
    DenseMatrix out = DenseMatrix.zeros(rowsOf(a, transA), colsOf(b, transB));
    multiply(1.0, a, transA, b, transB, 0.0, out);
    return out;
  }

  /** A new matrix a · b. */
  public static DenseMatrix multiply(DenseMatrix a, DenseMatrix b) {
    return multiply(a, false, b, false);
  }

  /** {@code m *= s} in place (s = 0 clears, including NaN entries). */
  public static void scale(double s, DenseMatrix m) {
    double[] d = m.data();
    if (s == 0.0) {
      java.util.Arrays.fill(d, 0.0);
      return;
    }
    for (int i = 0; i < d.length; i++) {
      d[i] *= s;
    }
  }

  /** {@code y += alpha · x} in place; shapes must agree. */
  public static void axpy(double alpha, DenseMatrix x, DenseMatrix y) {
    if (x.rows() != y.rows() || x.cols() != y.cols()) {
      throw new ArgumentException("axpy shapes differ: " + x.shapeString() + " and " + y.shapeString());
    }
    double[] a = x.data();
    double[] b = y.data();
    for (int i = 0; i < a.length; i++) {
      b[i] += alpha * a[i];
    }
  }

  /** {@code a - b} as a new matrix. */
  public static DenseMatrix subtract(DenseMatrix a, DenseMatrix b) {
    DenseMatrix out = a.copy();
    axpy(-1.0, b, out);
    return out;
  }

  public static double trace(DenseMatrix a) {
    int n = Math.min(a.rows(), a.cols());
    double t = 0;
    for (int i = 0; i < n; i++) {
      t += a.get(i, i);
    }
    return t;
  }

  /** max |a − b| over entries. */
  public static double maxAbsDiff(DenseMatrix a, DenseMatrix b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      throw new ArgumentException("Shapes differ: " + a.shapeString() + " and " + b.shapeString());
    }
    double m = 0;
    double[] x = a.data();
    double[] y = b.data();
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs(x[i] - y[i]));
    }
    return m;
  }

  /** ‖a − b‖_F / ‖b‖_F (or ‖a − b‖_F when b is zero). */
  public static double relativeFrobeniusDiff(DenseMatrix a, DenseMatrix b) {
    double nb = b.frobeniusNorm();
    double d = subtract(a, b).frobeniusNorm();
    return nb == 0 ? d : d / nb;
  }

  /** Throws unless {@code a} is square and symmetric to {@code tol}·max|a|. */
  public static void checkSymmetric(DenseMatrix a, double tol, String what) {
    if (a.rows() != a.cols()) {
      throw new ArgumentException(what + " must be square, got " + a.shapeString());
    }
    int n = a.rows();
    double max = 0;
    for (double v : a.data()) {
      max = Math.max(max, Math.abs(v));
    }
    for (int j = 0; j < n; j++) {
      for (int i = j + 1; i < n; i++) {
        double diff = Math.abs(a.get(i, j) - a.get(j, i));
        if (diff > tol * max) {
          throw new ArgumentException(what + " is not symmetric: entries (" + i + ", " + j + ") and (" + j + ", " + i
              + ") differ by " + diff);
        }
      }
    }
  }

  /** Flips each column's sign so that its entry of largest magnitude is positive (deterministic output). */
  public static void canonicalSigns(DenseMatrix u, DenseMatrix... alsoColumnsOf) {
    int n = u.rows();
    double[] d = u.data();
    for (int j = 0; j < u.cols(); j++) {
      int arg = 0;
      double best = -1;
      for (int i = 0; i < n; i++) {
        double v = Math.abs(d[i + j * n]);
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      if (d[arg + j * n] < 0) {
        for (int i = 0; i < n; i++) {
          d[i + j * n] = -d[i + j * n];
        }
        for (DenseMatrix m : alsoColumnsOf) {
          int rows = m.rows();
          for (int i = 0; i < rows; i++) {
            m.data()[i + j * rows] = -m.data()[i + j * rows];
          }
        }
      }
    }
  }
}
