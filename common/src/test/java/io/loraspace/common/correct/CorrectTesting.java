package io.loraspace.common.correct;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import java.util.Random;

/** Inputs shaped like real ones: displacements with clustered/repeated singular values, updates overlapping them. */
public final class CorrectTesting {
  private CorrectTesting() {}

  public static DenseMatrix gaussian(int r, int c, Random rnd) {
    DenseMatrix m = DenseMatrix.zeros(r, c);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextGaussian();
    }
    return m;
  }

  /** n×p with orthonormal columns. */
  public static DenseMatrix orthonormal(int n, int p, Random rnd) {
    return Qr.of(gaussian(n, p, rnd)).q();
  }

  /** D = U diag(σ) Vᵀ with the given U (out×p), V (in×p). */
  public static DenseMatrix planted(DenseMatrix u, double[] sigma, DenseMatrix v) {
    DenseMatrix us = u.copy();
    for (int j = 0; j < sigma.length; j++) {
      for (int i = 0; i < us.rows(); i++) {
        us.set(i, j, us.get(i, j) * sigma[j]);
      }
    }
    return Matrices.multiply(us, false, v, true);
  }

  /**
   * A spectrum of p values in plateaus: {@code plateaus[i]} repeated {@code counts[i]} times (e.g. 4 × 3, then a
   * flat tail), each value perturbed by {@code jitter} relative (0: exactly repeated).
   */
  public static double[] plateaus(double[] plateaus, int[] counts, double jitter, Random rnd) {
    int p = 0;
    for (int c : counts) {
      p += c;
    }
    double[] s = new double[p];
    int at = 0;
    for (int i = 0; i < plateaus.length; i++) {
      for (int j = 0; j < counts[i]; j++) {
        s[at++] = plateaus[i] * (1 + jitter * (rnd.nextDouble() - 0.5));
      }
    }
    java.util.Arrays.sort(s);
    for (int i = 0; i < p / 2; i++) {
      double t = s[i];
      s[i] = s[p - 1 - i];
      s[p - 1 - i] = t;
    }
    return s;
  }

  /**
   * A trained-looking update: rows of A and columns of B mix directions of V and U (weight {@code overlap}) with
   * random ones; B's columns have clustered norms. Scaling alpha/r with alpha = 2r.
   */
  public static LoraUpdate update(DenseMatrix u, DenseMatrix v, int r, double overlap, Random rnd) {
    int out = u.rows();
    int in = v.rows();
    DenseMatrix a = gaussian(r, in, rnd);
    Matrices.scale(1.0 / Math.sqrt(in), a);
    if (v.cols() > 0 && overlap > 0) {
      DenseMatrix mix = gaussian(r, v.cols(), rnd);
      Matrices.scale(overlap, mix);
      Matrices.multiply(1.0, mix, false, v, true, 1.0, a);
    }
    DenseMatrix b = gaussian(out, r, rnd);
    Matrices.scale(1.0 / Math.sqrt(out), b);
    if (u.cols() > 0 && overlap > 0) {
      DenseMatrix mix = gaussian(u.cols(), r, rnd);
      Matrices.scale(overlap, mix);
      Matrices.multiply(1.0, u, false, mix, false, 1.0, b);
    }
    for (int j = 0; j < r; j++) {
      double w = j < r / 2 ? 0.02 : 0.005; // two clusters of column norms
      for (int i = 0; i < out; i++) {
        b.set(i, j, b.get(i, j) * w);
      }
    }
    return new LoraUpdate(a, b, 2.0);
  }
}
