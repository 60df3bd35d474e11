package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/**
 * Per-sample output covariance of a linear layer {@code y = W x + b} from its input statistics (METHODS.md): with
 * per-sample sums {@code ĥ = W x̂ + T_s b}, {@code Σ ĥ ĥᵀ = W S Wᵀ + W u bᵀ + b uᵀ Wᵀ + (Σ T_s²) b bᵀ}, divided by the
 * number of samples. No output capture is needed.
 */
public final class OutputCovariance {
  private OutputCovariance() {}

  /**
   * @param w weight out×in
   * @param bias length out, or null for a layer without bias
   * @param sampleGram S (in×in)
   * @param tokenWeightedSum u = Σ_s T_s x̂ (length in); ignored without bias
   * @param sumTokensSquared Σ_s T_s²
   * @param samples n_s (> 0)
   */
  public static DenseMatrix perSample(DenseMatrix w, double[] bias, DenseMatrix sampleGram, double[] tokenWeightedSum,
      double sumTokensSquared, long samples) {
    int out = w.rows();
    int in = w.cols();
    if (sampleGram.rows() != in || sampleGram.cols() != in) {
      throw new ArgumentException("Sample Gram is " + sampleGram.shapeString() + " but the weight is " + w.shapeString());
    }
    if (samples <= 0) {
      throw new ArgumentException("Output covariance needs at least one sample, got " + samples);
    }
    DenseMatrix ws = Matrices.multiply(w, sampleGram);
    DenseMatrix cov = Matrices.multiply(ws, false, w, true);
    if (bias != null) {
      double[] wu = weightTimesU(w, bias, tokenWeightedSum);
      for (int j = 0; j < out; j++) {
        for (int i = 0; i < out; i++) {
          cov.add(i, j, wu[i] * bias[j] + bias[i] * wu[j] + sumTokensSquared * bias[i] * bias[j]);
        }
      }
    }
    Matrices.scale(1.0 / samples, cov);
    cov.symmetrizeFromUpper();
    return cov;
  }

  /**
   * The fraction {@code tr(Qᵀ Cov Q) / tr(Cov)} of the per-sample output covariance {@link #perSample} inside span(Q)
   * (Q out×r, orthonormal columns), without forming Cov: with {@code G = Wᵀ Q} the numerator is
   * {@code tr(Gᵀ S G) + 2 (Qᵀ W u)·(Qᵀ b) + (Σ T_s²) ‖Qᵀ b‖²} and the denominator
   * {@code ⟨S, WᵀW⟩ + 2 bᵀ W u + (Σ T_s²) ‖b‖²} (the 1/n_s cancels). One {@code dsyrk} of {@code WᵀW} (out·in² flops)
   * instead of the two products {@code W S} and {@code (W S) Wᵀ} (2·out·in² + 2·out²·in), for the reports of
   * methods that do not need Cov itself. NaN when Cov is zero.
   */
  public static double capturedFraction(DenseMatrix q, DenseMatrix w, double[] bias, DenseMatrix sampleGram,
      double[] tokenWeightedSum, double sumTokensSquared) {
    int out = w.rows();
    int in = w.cols();
    if (sampleGram.rows() != in || sampleGram.cols() != in || q.rows() != out) {
      throw new ArgumentException("Sample Gram is " + sampleGram.shapeString() + " and Q " + q.shapeString()
          + " but the weight is " + w.shapeString());
    }
    DenseMatrix g = Matrices.multiply(w, true, q, false);
    DenseMatrix sg = Matrices.multiply(sampleGram, g);
    double numerator = dot(g.data(), sg.data());
    double[] m = new double[in * in];
    Blas.blas().dsyrk("U", "T", in, out, 1.0, w.data(), out, 0.0, m, in);
    double[] s = sampleGram.data();
    double denominator = 0;
    for (int j = 0; j < in; j++) {
      for (int i = 0; i < j; i++) {
        denominator += 2 * s[i + j * in] * m[i + j * in];
      }
      denominator += s[j + j * in] * m[j + j * in];
    }
    if (bias != null) {
      double[] wu = weightTimesU(w, bias, tokenWeightedSum);
      double[] qwu = new double[q.cols()];
      double[] qb = new double[q.cols()];
      for (int k = 0; k < q.cols(); k++) {
        for (int i = 0; i < out; i++) {
          qwu[k] += q.get(i, k) * wu[i];
          qb[k] += q.get(i, k) * bias[i];
        }
      }
      numerator += 2 * dot(qwu, qb) + sumTokensSquared * dot(qb, qb);
      denominator += 2 * dot(bias, wu) + sumTokensSquared * dot(bias, bias);
    }
    return denominator == 0 ? Double.NaN : numerator / denominator;
  }

  /** {@code W u}, after checking the bias and u against the weight's shape. */
  private static double[] weightTimesU(DenseMatrix w, double[] bias, double[] tokenWeightedSum) {
    int out = w.rows();
    int in = w.cols();
    if (bias.length != out || tokenWeightedSum.length != in) {
      throw new ArgumentException("Bias has length " + bias.length + " and u " + tokenWeightedSum.length
          + " for a weight " + w.shapeString());
    }
    double[] wu = new double[out];
    for (int j = 0; j < in; j++) {
      double uj = tokenWeightedSum[j];
      for (int i = 0; i < out; i++) {
        wu[i] += w.get(i, j) * uj;
      }
    }
    return wu;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
