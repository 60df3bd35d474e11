package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * The dominant singular subspaces of a matrix D (m×n) that hold a share τ of its energy: {@code U} (m×k), {@code V}
 * (n×k) and σ_1 ≥ … ≥ σ_k, with k the smallest rank such that {@code Σ_{j≤k} σ_j² ≥ τ ‖D‖_F²} (up to a relative
 * 1e-12, so that τ = 1 on an exactly low-rank D picks its rank). Only products with D and Dᵀ against thin matrices are
 * used (randomized subspace iteration, Halko, Martinsson &amp; Tropp 2011, Alg. 4.4 with Rayleigh–Ritz):
 *
 * <ol>
 *   <li>Q = orth(D Ω), Ω Gaussian n×l, l = initial rank + oversampling;
 *   <li>each iteration: Z = Dᵀ Q, thin SVD Z = V_z Σ W_zᵀ (so Qᵀ D = W_z Σ V_zᵀ), Y = D V_z, Q ← orth(Y);
 *   <li>after the minimum number of power iterations: when the sketch holds less than τ of the energy (Σ σ² over the
 *       sketch &lt; τ ‖D‖²), the sketch size doubles and the iteration restarts; otherwise k is read off σ, and the
 *       iteration stops once the k Ritz triplets are accurate: {@code max_j ‖D v_j − σ_j u_j‖ ≤ tol · σ_1}
 *       ({@code Dᵀ u_j = σ_j v_j} holds exactly by construction), or after the maximum number of iterations.
 * </ol>
 *
 * <p>By Wedin's theorem the sine of the largest principal angle to the exact top-k subspaces is at most the residual
 * divided by the gap σ_k − σ_{k+1}; when σ_k = σ_{k+1} the top-k subspace is not unique and any one is returned.
 * The sketch's σ_j never exceed the true ones, so k is never smaller than the exact k, and equals it on convergence.
 */
public final class EnergySubspace implements Serializable {
  private static final long serialVersionUID = 1L;

  /** How the subspace is computed. Defaults: METHODS.md (CSULoRA: oversampling 10, 2 power iterations). */
  public static final class Options implements Serializable {
    private static final long serialVersionUID = 1L;
    /** τ in (0, 1]. */
    public double energy = 0.9;
    /** The first sketch has {@code initialRank + oversampling} columns. */
    public int initialRank = 16;
    public int oversampling = 10;
    /** Power iterations always done before k is read. */
    public int powerIterations = 2;
    /** Further iterations stop at this many in total, converged or not. */
    public int maxPowerIterations = 30;
    /** Relative residual {@code max_j ‖D v_j − σ_j u_j‖ / σ_1} at which the iteration stops; 0: never early. */
    public double tolerance = 1e-8;
    public long seed = 1;

    /** Throws naming the first bad field. */
    public void validate() {
      if (!(energy > 0 && energy <= 1)) {
        throw new ArgumentException("Energy fraction τ is " + energy + ", expected in (0, 1]");
      }
      if (initialRank < 1 || oversampling < 0 || powerIterations < 0 || maxPowerIterations < powerIterations) {
        throw new ArgumentException("Range finder: initial rank " + initialRank + " (≥ 1), oversampling "
            + oversampling + " (≥ 0), power iterations " + powerIterations + " (≥ 0), at most "
            + maxPowerIterations + " (≥ power iterations)");
      }
      if (!(tolerance >= 0) || !Double.isFinite(tolerance)) {
        throw new ArgumentException("Range finder tolerance is " + tolerance + ", expected a finite value ≥ 0");
      }
    }
  }

  private final DenseMatrix u;
  private final DenseMatrix v;
  private final double[] sketchValues;
  private final int k;
  private final double totalEnergy;
  private final int sketchColumns;
  private final int iterations;
  private final double residual;

  private EnergySubspace(DenseMatrix u, DenseMatrix v, double[] sketchValues, int k, double totalEnergy,
      int sketchColumns, int iterations, double residual) {
    this.u = u;
    this.v = v;
    this.sketchValues = sketchValues;
    this.k = k;
    this.totalEnergy = totalEnergy;
    this.sketchColumns = sketchColumns;
    this.iterations = iterations;
    this.residual = residual;
  }

  /** Left singular vectors, m×k, orthonormal columns. */
  public DenseMatrix u() {
    return u;
  }

  /** Right singular vectors, n×k, orthonormal columns. */
  public DenseMatrix v() {
    return v;
  }

  public int k() {
    return k;
  }

  /** The singular values of the final sketch Qᵀ D, descending (the first k are σ_1..σ_k). */
  public double[] sketchValues() {
    return sketchValues;
  }

  /** σ_1 … σ_k. */
  public double[] singularValues() {
    return java.util.Arrays.copyOf(sketchValues, k);
  }

  /** ‖D‖_F². */
  public double totalEnergy() {
    return totalEnergy;
  }

  /** Σ_{j≤k} σ_j². */
  public double keptEnergy() {
    double e = 0;
    for (int j = 0; j < k; j++) {
      e += sketchValues[j] * sketchValues[j];
    }
    return e;
  }

  /** Σ_{j≤k} σ_j² / ‖D‖_F² (1 for D = 0). */
  public double energyShare() {
    return totalEnergy == 0 ? 1.0 : keptEnergy() / totalEnergy;
  }

  /** Columns of the last sketch. */
  public int sketchColumns() {
    return sketchColumns;
  }

  /** Power iterations done on the last sketch. */
  public int iterations() {
    return iterations;
  }

  /** {@code max_{j≤k} ‖D v_j − σ_j u_j‖ / σ_1} at the end (0 for k = 0). */
  public double residual() {
    return residual;
  }

  /** σ_{k+1} / σ_k from the sketch, or NaN when the sketch has no (k+1)-th value or k = 0. */
  public double gapRatio() {
    return k == 0 || k >= sketchValues.length || sketchValues[k - 1] == 0 ? Double.NaN
        : sketchValues[k] / sketchValues[k - 1];
  }

  /** Computes the subspaces of the dense matrix {@code d} (not modified); {@code ‖d‖_F²} is computed here. */
  public static EnergySubspace of(DenseMatrix d, Options options) {
    double e = 0;
    for (double x : d.data()) {
      e += x * x;
    }
    return of(LinearOperator.of(d), e, options);
  }

  /** Computes the subspaces of {@code d} given its exact {@code ‖d‖_F²}. */
  public static EnergySubspace of(LinearOperator d, double frobeniusSquared, Options o) {
    o.validate();
    if (!(frobeniusSquared >= 0) || !Double.isFinite(frobeniusSquared)) {
      throw new ArgumentException("‖D‖_F² is " + frobeniusSquared + ", expected a finite value ≥ 0");
    }
    int m = d.rows();
    int n = d.cols();
    int maxRank = Math.min(m, n);
    if (frobeniusSquared == 0 || maxRank == 0) {
      return new EnergySubspace(DenseMatrix.zeros(m, 0), DenseMatrix.zeros(n, 0), new double[0], 0,
          frobeniusSquared, 0, 0, 0);
    }
    double target = o.energy * frobeniusSquared * (1 - 1e-12);
    SplittableRandom rnd = new SplittableRandom(o.seed);
    int l = Math.min(maxRank, o.initialRank + o.oversampling);
    while (true) {
      DenseMatrix omega = DenseMatrix.zeros(n, l);
      for (int i = 0; i < omega.data().length; i++) {
        omega.data()[i] = rnd.nextGaussian();
      }
      DenseMatrix q = Qr.of(d.apply(omega)).q();
      for (int it = 0; ; it++) {
        // Z = Dᵀ Q = V_z Σ W_zᵀ with V_z = z.u() (n×l) and W_z = z.v() (l×l), so Qᵀ D = W_z Σ V_zᵀ.
        ThinSvd z = ThinSvd.of(d.applyTranspose(q));
        double[] s = z.singularValues();
        DenseMatrix y = d.apply(z.u());
        if (it >= o.powerIterations) {
          double captured = 0;
          for (double x : s) {
            captured += x * x;
          }
          if (captured < target && l < maxRank) {
            break;
          }
          int k = 0;
          double cum = 0;
          while (k < s.length && cum < target) {
            cum += s[k] * s[k];
            k++;
          }
          DenseMatrix uk = Matrices.multiply(q, false, z.v().columns(0, k), false); // Q W_z[:, :k]
          DenseMatrix vk = z.u().columns(0, k);
          double res = 0;
          for (int j = 0; j < k; j++) {
            double r2 = 0;
            for (int i = 0; i < m; i++) {
              double x = y.get(i, j) - s[j] * uk.get(i, j);
              r2 += x * x;
            }
            res = Math.max(res, Math.sqrt(r2));
          }
          res = s[0] > 0 ? res / s[0] : 0;
          if (res <= o.tolerance || it >= o.maxPowerIterations || k == 0) {
            Matrices.canonicalSigns(uk, vk);
            return new EnergySubspace(uk, vk, s, k, frobeniusSquared, l, it, res);
          }
        }
        q = Qr.of(y).q();
      }
      l = Math.min(maxRank, 2 * l);
    }
  }
}
