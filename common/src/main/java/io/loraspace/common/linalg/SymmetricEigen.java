package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import org.netlib.util.intW;

/**
 * Dense symmetric eigendecomposition with LAPACK {@code dsyevr} (MRRR): all pairs, or an index range in ascending
 * algebraic order. The input is not modified. Eigenvalues ascend; eigenvector i is column i.
 */
public final class SymmetricEigen {
  /** Eigenvalues (ascending) and orthonormal eigenvectors (columns). */
  public static final class Result {
    private final double[] values;
    private final DenseMatrix vectors;

    public Result(double[] values, DenseMatrix vectors) {
      this.values = values;
      this.vectors = vectors;
    }

    public double[] values() {
      return values;
    }

    public DenseMatrix vectors() {
      return vectors;
    }

    /** The pairs in descending order of eigenvalue (a new result). */
    public Result descending() {
      int k = values.length;
      int n = vectors.rows();
      double[] v = new double[k];
      DenseMatrix z = DenseMatrix.zeros(n, k);
      for (int j = 0; j < k; j++) {
        v[j] = values[k - 1 - j];
        System.arraycopy(vectors.data(), (k - 1 - j) * n, z.data(), j * n, n);
      }
      return new Result(v, z);
    }
  }

  private SymmetricEigen() {}

  /** All eigenpairs of symmetric {@code a} (its upper triangle is read). */
  public static Result full(DenseMatrix a) {
    return range(a, 0, a.rows());
  }

  /** The {@code k} algebraically largest pairs, in descending order. */
  public static Result top(DenseMatrix a, int k) {
    checkK(a, k);
    return range(a, a.rows() - k, a.rows()).descending();
  }

  /** The {@code k} algebraically smallest pairs, in ascending order. */
  public static Result bottom(DenseMatrix a, int k) {
    checkK(a, k);
    return range(a, 0, k);
  }

  private static void checkK(DenseMatrix a, int k) {
    if (k < 0 || k > a.rows()) {
      throw new ArgumentException("Requested " + k + " eigenpairs of a " + a.rows() + "×" + a.rows() + " matrix");
    }
  }

  /** Pairs with ascending indices [from, to) (0-based) of the ascending spectrum. */
  public static Result range(DenseMatrix a, int from, int to) {
    if (a.rows() != a.cols()) {
      throw new ArgumentException("Eigendecomposition needs a square matrix, got " + a.shapeString());
    }
    int n = a.rows();
    if (from < 0 || to > n || from > to) {
      throw new ArgumentException("Eigenpair range [" + from + ", " + to + ") outside [0, " + n + "]");
    }
    int k = to - from;
    if (k == 0 || n == 0) {
      return new Result(new double[0], DenseMatrix.zeros(n, 0));
    }
    for (double v : a.data()) {
      if (!Double.isFinite(v)) {
        throw new ArgumentException("Matrix for eigendecomposition holds a non-finite value " + v);
      }
    }
    double[] work = a.data().clone();
    double[] w = new double[n];
    double[] z = new double[n * k];
    int[] isuppz = new int[2 * Math.max(1, n)];
    intW m = new intW(0);
    intW info = new intW(0);
    String rangeFlag = k == n ? "A" : "I";
    // Workspace query, then the real call.
    double[] wq = new double[1];
    int[] iwq = new int[1];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dsyevr("V", rangeFlag, "U", n, work, n, 0.0, 0.0, from + 1, to, 0.0, m, w, z, n, isuppz, wq, -1,
          iwq, -1, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dsyevr workspace query failed with info = " + info.val);
    }
    // At least the documented minimums (LWORK ≥ max(1, 26n), LIWORK ≥ max(1, 10n)): the query's answer for n = 1
    // differs between LAPACK versions (OpenBLAS 0.3.31's LAPACK rejects its own answer there as parameter 20).
    double[] wk = new double[Math.max((int) wq[0], Math.max(1, 26 * n))];
    int[] iwk = new int[Math.max(iwq[0], Math.max(1, 10 * n))];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dsyevr("V", rangeFlag, "U", n, work, n, 0.0, 0.0, from + 1, to, 0.0, m, w, z, n, isuppz, wk,
          wk.length, iwk, iwk.length, info);
    }
    if (info.val != 0) {
      throw new StateException("LAPACK dsyevr failed with info = " + info.val + " (n = " + n + ")");
    }
    if (m.val != k) {
      throw new StateException("LAPACK dsyevr returned " + m.val + " eigenpairs, expected " + k);
    }
    return new Result(java.util.Arrays.copyOf(w, k), DenseMatrix.wrap(n, k, z));
  }
}
