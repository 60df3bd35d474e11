package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import java.util.SplittableRandom;

/**
 * Randomized range finder (Halko, Martinsson & Tropp 2011, Algorithms 4.3/4.4): an orthonormal Q (rows×l) whose span
 * captures a requested share of A's energy, {@code ‖Qᵀ A‖_F² ≥ τ ‖A‖_F²}. Q starts from A·Ω with Ω Gaussian of
 * {@code initialRank + oversampling} columns, refined by q power iterations with re-orthonormalisation between the
 * products (for stability), and grows (doubling the sketch) until the energy target is met or Q spans everything.
 * Only products with A and Aᵀ are needed.
 */
public final class RandomizedRangeFinder {
  /** Q and the energy share it captures. */
  public static final class Result {
    private final DenseMatrix q;
    private final double capturedEnergy;
    private final double totalEnergy;

    Result(DenseMatrix q, double capturedEnergy, double totalEnergy) {
      this.q = q;
      this.capturedEnergy = capturedEnergy;
      this.totalEnergy = totalEnergy;
    }

    public DenseMatrix q() {
      return q;
    }

    /** ‖Qᵀ A‖_F². */
    public double capturedEnergy() {
      return capturedEnergy;
    }

    /** ‖A‖_F² as given. */
    public double totalEnergy() {
      return totalEnergy;
    }

    public double capturedShare() {
      return totalEnergy == 0 ? 1.0 : capturedEnergy / totalEnergy;
    }
  }

  private RandomizedRangeFinder() {}

  /**
   * @param frobeniusSquared ‖A‖_F² (the caller knows it exactly for the matrices we use)
   * @param energyTarget τ in (0, 1]
   */
  public static Result find(LinearOperator a, double frobeniusSquared, double energyTarget, int initialRank,
      int oversampling, int powerIterations, long seed) {
    if (!(energyTarget > 0 && energyTarget <= 1)) {
      throw new ArgumentException("Energy target is " + energyTarget + ", expected in (0, 1]");
    }
    if (initialRank < 1 || oversampling < 0 || powerIterations < 0) {
      throw new ArgumentException("Range finder: initial rank " + initialRank + " (≥ 1), oversampling " + oversampling
          + " (≥ 0), power iterations " + powerIterations + " (≥ 0)");
    }
    int m = a.rows();
    int n = a.cols();
    int maxRank = Math.min(m, n);
    SplittableRandom rnd = new SplittableRandom(seed);
    int l = Math.min(maxRank, initialRank + oversampling);
    while (true) {
      DenseMatrix omega = DenseMatrix.zeros(n, l);
      for (int i = 0; i < omega.data().length; i++) {
        omega.data()[i] = rnd.nextGaussian();
      }
      DenseMatrix q = Orthonormalizer.orthonormalize(a.apply(omega), null, 1e-12);
      for (int it = 0; it < powerIterations && q.cols() > 0; it++) {
        DenseMatrix z = Orthonormalizer.orthonormalize(a.applyTranspose(q), null, 1e-12);
        q = Orthonormalizer.orthonormalize(a.apply(z), null, 1e-12);
      }
      DenseMatrix qta = a.applyTranspose(q); // n×l: (Qᵀ A)ᵀ
      double captured = 0;
      for (double v : qta.data()) {
        captured += v * v;
      }
      if (captured >= energyTarget * frobeniusSquared * (1 - 1e-12) || l >= maxRank) {
        return new Result(q, captured, frobeniusSquared);
      }
      l = Math.min(maxRank, 2 * l);
    }
  }
}
