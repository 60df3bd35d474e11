package io.loraspace.jobs.bench;

import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.ThinSvd;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): partial top-k / bottom-k eigensolves against the full LAPACK dsyevr on the same matrix, in
 * one run. Matrices: Q diag(λ) Qᵀ with a random orthogonal Q and (a) a decaying covariance-like spectrum
 * λ_i = 0.97^i (top-k), (b) an indefinite spectrum ±(1 + 0.97^i) interleaved (top-k and bottom-k, like SC-LoRA's
 * ΔCov). Prints one line per figure: speed-up, max principal-angle sine to the full solver's subspace, max relative
 * eigenvalue error.
 *
 * <p>Usage: {@code scripts/bench-eigen.sh [d] [k...]} (default d = 4096, k = 8 128).
 */
public final class EigenBenchmark {
  private EigenBenchmark() {}

  public static void main(String[] args) {
    int d = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int[] ks = args.length > 1 ? new int[args.length - 1] : new int[] {8, 128};
    for (int i = 1; i < args.length; i++) {
      ks[i - 1] = Integer.parseInt(args[i]);
    }
    System.out.println("# partial vs full symmetric eigensolve, d = " + d + "; " + Blas.describe());
    SplittableRandom rnd = new SplittableRandom(42);
    DenseMatrix q = Qr.of(gaussian(d, d, rnd)).q();
    for (String kind : new String[] {"decaying", "indefinite"}) {
      double[] lam = new double[d];
      for (int i = 0; i < d; i++) {
        double mag = Math.pow(0.97, i / 2.0);
        lam[i] = kind.equals("decaying") ? Math.pow(0.97, i) : (i % 2 == 0 ? 1 + mag : -(1 + mag));
      }
      DenseMatrix a = withSpectrum(q, lam);
      long t0 = System.nanoTime();
      SymmetricEigen.Result full = SymmetricEigen.full(a);
      double tFull = (System.nanoTime() - t0) / 1e9;
      System.out.printf("full dsyevr %-10s d=%d: %.2f s%n", kind, d, tFull);
      for (int k : ks) {
        for (PartialSymmetricEigen.Which which : PartialSymmetricEigen.Which.values()) {
          if (kind.equals("decaying") && which == PartialSymmetricEigen.Which.SMALLEST) {
            continue; // the bottom of a decaying spectrum is clustered: not a partial-solver problem
          }
          if (which == PartialSymmetricEigen.Which.SMALLEST && k != ks[0]) {
            continue;
          }
          long t1 = System.nanoTime();
          PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(a, k, which);
          double tPart = (System.nanoTime() - t1) / 1e9;
          DenseMatrix ref = which == PartialSymmetricEigen.Which.LARGEST
              ? full.vectors().columns(d - k, d) : full.vectors().columns(0, k);
          double maxErr = 0;
          for (int j = 0; j < k; j++) {
            double want = which == PartialSymmetricEigen.Which.LARGEST ? full.values()[d - 1 - j] : full.values()[j];
            maxErr = Math.max(maxErr, Math.abs(p.values()[j] - want) / Math.abs(want));
          }
          System.out.printf("partial %-8s %-10s k=%-4d %.2f s  speed-up %.1fx  max sin(angle) %.1e  "
              + "max rel eigenvalue err %.1e  restarts %d  matvecs %d%n", which, kind, k, tPart, tFull / tPart,
              sinAngle(p.vectors(), ref), maxErr, p.restarts(), p.operatorColumns());
        }
      }
    }
  }

  static DenseMatrix gaussian(int r, int c, SplittableRandom rnd) {
    DenseMatrix m = DenseMatrix.zeros(r, c);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextGaussian();
    }
    return m;
  }

  static DenseMatrix withSpectrum(DenseMatrix q, double[] lam) {
    DenseMatrix ql = q.copy();
    int d = q.rows();
    for (int j = 0; j < lam.length; j++) {
      for (int i = 0; i < d; i++) {
        ql.data()[i + j * d] *= lam[j];
      }
    }
    DenseMatrix a = Matrices.multiply(ql, false, q, true);
    a.symmetrizeFromUpper();
    return a;
  }

  /** Largest principal-angle sine: top singular value of (I − U Uᵀ) V. */
  static double sinAngle(DenseMatrix u, DenseMatrix v) {
    DenseMatrix r = v.copy();
    Matrices.multiply(-1.0, u, false, Matrices.multiply(u, true, v, false), false, 1.0, r);
    double[] s = ThinSvd.of(r).singularValues();
    return s.length == 0 ? 0 : s[0];
  }
}
