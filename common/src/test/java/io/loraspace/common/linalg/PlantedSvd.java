package io.loraspace.common.linalg;

import java.util.Random;

/**
 * Matrices {@code A = U diag(σ) Vᵀ} with planted singular values and random orthonormal U (m×k), V (n×k), k = min(m,
 * n), for the partial-SVD tests. The spectra are the cases the partial routes must handle.
 */
public final class PlantedSvd {
  public final DenseMatrix a;
  public final DenseMatrix u;
  public final double[] sigma;
  public final DenseMatrix v;

  private PlantedSvd(DenseMatrix a, DenseMatrix u, double[] sigma, DenseMatrix v) {
    this.a = a;
    this.u = u;
    this.sigma = sigma;
    this.v = v;
  }

  /** Spectra over k values, descending; {@code r} is where the wanted end stops, {@code top} which end is wanted. */
  public enum Spectrum {
    /** σ_i = exp(−5i/k): geometric decay from 1 to e⁻⁵, relative gaps 5/k. */
    DECAYING,
    /** σ_i = 1 − 0.9·i/k: evenly spaced, relative gaps 0.9/k at the top and 0.9/(0.1k) at the bottom. */
    FLAT,
    /** The wanted r values spread, every unwanted one inside a cluster 1e-6 wide at distance ≥ 0.3 from them. */
    CLUSTERED,
    /** DECAYING with the first unwanted value 1e-11 (relative) from the last wanted one: no subspace to 1e-8. */
    TINY_GAP;

    public double[] values(int k, int r, boolean top) {
      double[] s = new double[k];
      for (int i = 0; i < k; i++) {
        switch (this) {
          case DECAYING:
          case TINY_GAP:
            s[i] = Math.exp(-5.0 * i / k);
            break;
          case FLAT:
            s[i] = 1 - 0.9 * i / k;
            break;
          default:
            boolean wanted = top ? i < r : i >= k - r;
            s[i] = wanted ? (top ? 3 - 0.1 * i : 0.2 + 0.05 * (k - 1 - i)) : 1 + 1e-6 * (k - i) / k;
        }
      }
      if (this == TINY_GAP) {
        if (top) {
          s[r] = s[r - 1] * (1 - 1e-11);
        } else {
          s[k - r - 1] = s[k - r] * (1 + 1e-11);
        }
      }
      return s;
    }
  }

  public static PlantedSvd of(int m, int n, double[] sigma, long seed) {
    Random rnd = new Random(seed);
    int k = Math.min(m, n);
    DenseMatrix u = Qr.of(LinalgTesting.gaussian(m, k, rnd)).q();
    DenseMatrix v = Qr.of(LinalgTesting.gaussian(n, k, rnd)).q();
    DenseMatrix us = u.copy();
    for (int j = 0; j < k; j++) {
      for (int i = 0; i < m; i++) {
        us.set(i, j, us.get(i, j) * sigma[j]);
      }
    }
    return new PlantedSvd(Matrices.multiply(us, false, v, true), u, sigma, v);
  }

  /** Columns [from, to) of the planted U. */
  public DenseMatrix u(int from, int to) {
    return u.columns(from, to);
  }

  public DenseMatrix v(int from, int to) {
    return v.columns(from, to);
  }
}
