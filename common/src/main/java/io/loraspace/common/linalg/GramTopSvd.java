package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import org.netlib.util.booleanW;
import org.netlib.util.intW;

/**
 * The r largest singular triplets of a dense m×n matrix, and every singular value, from its Gram matrix on the smaller
 * side (k = min(m, n)): {@code G = AᵀA} (or {@code AAᵀ} when A is wide) by {@code dsyrk}, one tridiagonal reduction
 * ({@code dsytrd}), every eigenvalue of the tridiagonal matrix ({@code dsterf}), the r wanted eigenvectors only
 * ({@code dstemr}) carried back by {@code dormtr}; the other side's vectors are {@code A V Σ⁻¹}.
 *
 * <p>A direct method (no iteration, cost independent of the spectrum) that does a fraction of {@code dgesdd}'s work
 * when r ≪ k: one k³ product and one reduction of a k×k symmetric matrix, against a bidiagonal reduction of the m×n
 * matrix and the back-transformation of all k pairs of vectors. Accuracy for the largest triplets: forming G and
 * solving it are backward stable with errors of order ε·σ₁², so an eigenvector of σ_j² is perturbed by about
 * ε·σ₁² / (σ_j² − σ_{j+1}²) = ε·(σ₁ / (σ_j + σ_{j+1}))·σ₁ / (σ_j − σ_{j+1}): the SVD's ε·σ₁ / gap times σ₁ / 2σ_j,
 * a small factor for the top of a spectrum. Singular values far below σ₁ are not resolved (σ below about √ε·σ₁ comes
 * out at that floor): they are returned for reports only. When σ_r &lt; {@link #MIN_RELATIVE_SIGMA}·σ₁ the caller
 * should use the SVD ({@link #resolved} is false).
 */
public final class GramTopSvd {
  /** Below this σ_r / σ₁ the Gram route's U = A V Σ⁻¹ loses orthogonality: use {@link ThinSvd}. */
  public static final double MIN_RELATIVE_SIGMA = 1e-4;

  private final DenseMatrix u;
  private final double[] values;
  private final DenseMatrix v;
  private final double[] spectrum;
  private final boolean resolved;

  private GramTopSvd(DenseMatrix u, double[] values, DenseMatrix v, double[] spectrum, boolean resolved) {
    this.u = u;
    this.values = values;
    this.v = v;
    this.spectrum = spectrum;
    this.resolved = resolved;
  }

  /** m×r, orthonormal columns (null when not {@link #resolved}). */
  public DenseMatrix u() {
    return u;
  }

  /** The r largest singular values, descending. */
  public double[] values() {
    return values;
  }

  /** n×r, orthonormal columns (null when not {@link #resolved}). */
  public DenseMatrix v() {
    return v;
  }

  /** Every singular value, descending (those far below σ₁ at the route's floor; for reports). */
  public double[] spectrum() {
    return spectrum;
  }

  /** False when σ_r is below {@link #MIN_RELATIVE_SIGMA}·σ₁ (or A is zero): then use {@link ThinSvd}. */
  public boolean resolved() {
    return resolved;
  }

  /** The r largest triplets of {@code a} (not modified). */
  public static GramTopSvd of(DenseMatrix a, int r) {
    int m = a.rows();
    int n = a.cols();
    int k = Math.min(m, n);
    if (r < 1 || r > k) {
      throw new ArgumentException("Requested " + r + " singular triplets of a " + m + "×" + n + " matrix (r must be "
          + "in [1, " + k + "])");
    }
    for (double x : a.data()) {
      if (!Double.isFinite(x)) {
        throw new ArgumentException("Matrix for SVD holds a non-finite value " + x);
      }
    }
    boolean wide = m < n;
    // G (k×k, upper triangle): AᵀA for tall A (column-major m×n: trans "T"), AAᵀ for wide A (trans "N").
    double[] g = new double[k * k];
    Blas.blas().dsyrk("U", wide ? "N" : "T", k, wide ? n : m, 1.0, a.data(), m, 0.0, g, k);
    double[] d = new double[k];
    double[] e = new double[Math.max(1, k - 1)];
    double[] tau = new double[Math.max(1, k - 1)];
    intW info = new intW(0);
    double[] wq = new double[1];
    double[] all;
    double[] w = new double[k];
    double[] z = new double[k * r];
    synchronized (Blas.lapackLock()) {
      Blas.lapack().dsytrd("U", k, g, k, d, e, tau, wq, -1, info);
      double[] work = new double[Math.max(1, (int) wq[0])];
      Blas.lapack().dsytrd("U", k, g, k, d, e, tau, work, work.length, info);
      check("dsytrd", info);
      all = d.clone();
      double[] e2 = e.clone();
      Blas.lapack().dsterf(k, all, e2, info);
      check("dsterf", info);
      intW found = new intW(0);
      int[] isuppz = new int[2 * r];
      booleanW tryrac = new booleanW(true);
      int[] iwq = new int[1];
      double[] d3 = d.clone();
      double[] e3 = java.util.Arrays.copyOf(e, k);
      Blas.lapack().dstemr("V", "I", k, d3, e3, 0.0, 0.0, k - r + 1, k, found, w, z, k, r, isuppz, tryrac, wq, -1,
          iwq, -1, info);
      check("dstemr (workspace query)", info);
      double[] swork = new double[Math.max(1, (int) wq[0])];
      int[] iwork = new int[Math.max(1, iwq[0])];
      Blas.lapack().dstemr("V", "I", k, d3, e3, 0.0, 0.0, k - r + 1, k, found, w, z, k, r, isuppz, tryrac, swork,
          swork.length, iwork, iwork.length, info);
      check("dstemr", info);
      if (found.val != r) {
        throw new StateException("LAPACK dstemr returned " + found.val + " of " + r + " eigenpairs (" + k + "×" + k
            + " Gram matrix)");
      }
      Blas.lapack().dormtr("L", "U", "N", k, r, g, k, tau, z, k, wq, -1, info);
      double[] owork = new double[Math.max(1, (int) wq[0])];
      Blas.lapack().dormtr("L", "U", "N", k, r, g, k, tau, z, k, owork, owork.length, info);
      check("dormtr", info);
    }
    double[] spectrum = new double[k];
    for (int i = 0; i < k; i++) {
      spectrum[i] = Math.sqrt(Math.max(0, all[k - 1 - i]));
    }
    // dstemr's pairs ascend: the largest is the last column.
    double[] values = new double[r];
    DenseMatrix small = DenseMatrix.zeros(k, r);
    for (int j = 0; j < r; j++) {
      values[j] = Math.sqrt(Math.max(0, w[r - 1 - j]));
      System.arraycopy(z, (r - 1 - j) * k, small.data(), j * k, k);
    }
    if (!(values[0] > 0) || values[r - 1] < MIN_RELATIVE_SIGMA * values[0]) {
      return new GramTopSvd(null, values, null, spectrum, false);
    }
    // The other side: tall A: U = A V Σ⁻¹; wide A: small holds U, V = Aᵀ U Σ⁻¹.
    DenseMatrix other = wide ? Matrices.multiply(a, true, small, false) : Matrices.multiply(a, small);
    for (int j = 0; j < r; j++) {
      double inv = 1.0 / values[j];
      for (int i = 0; i < other.rows(); i++) {
        other.set(i, j, other.get(i, j) * inv);
      }
    }
    return wide ? new GramTopSvd(small, values, other, spectrum, true)
        : new GramTopSvd(other, values, small, spectrum, true);
  }

  private static void check(String routine, intW info) {
    if (info.val != 0) {
      throw new StateException("LAPACK " + routine + " failed with info = " + info.val);
    }
  }
}
