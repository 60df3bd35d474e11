package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
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
}
