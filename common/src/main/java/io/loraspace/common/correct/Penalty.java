package io.loraspace.common.correct;

import io.loraspace.common.error.ArgumentException;
import java.io.Serializable;

/**
 * CSULoRA's penalties λ_AN, λ_NA, λ_NN from the block energies E_b = ‖ΔW_b‖_F². The form is <b>reconstructed</b>
 * (METHODS.md: the seed's formula was lost in extraction), so it is a named choice.
 */
public interface Penalty extends Serializable {
  /** {λ_AN, λ_NA, λ_NN}, each ≥ 0 and finite. */
  double[] lambdas(double eAA, double eAN, double eNA, double eNN);

  /** The option value naming this form. */
  String name();

  /**
   * {@code energy-ratio} (the default): {@code E_ref = E_AA + ε ‖ΔW‖_F²}, {@code λ_b = E_b / E_ref}. Invariant to
   * rescaling the update (numerator and denominator are both quadratic in it); ε keeps the shrinkage finite when the
   * fully aligned block is small. When ΔW = 0 every λ is 0 (there is nothing to shrink).
   */
  static Penalty energyRatio(double epsilon) {
    if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
      throw new ArgumentException("CSULoRA ε is " + epsilon + ", expected a finite value > 0");
    }
    return new EnergyRatio(epsilon);
  }

  /** {@code fixed}: the same λ for the three penalised blocks (λ = 0 returns ΔW unchanged). */
  static Penalty fixed(double lambda) {
    if (!(lambda >= 0) || !Double.isFinite(lambda)) {
      throw new ArgumentException("CSULoRA λ is " + lambda + ", expected a finite value ≥ 0");
    }
    return new Fixed(lambda);
  }

  /** See {@link Penalty#energyRatio}. */
  final class EnergyRatio implements Penalty {
    private static final long serialVersionUID = 1L;
    private final double epsilon;

    private EnergyRatio(double epsilon) {
      this.epsilon = epsilon;
    }

    @Override
    public double[] lambdas(double eAA, double eAN, double eNA, double eNN) {
      double ref = eAA + epsilon * (eAA + eAN + eNA + eNN);
      if (ref == 0) {
        return new double[3];
      }
      return new double[] {eAN / ref, eNA / ref, eNN / ref};
    }

    @Override
    public String name() {
      return "energy-ratio";
    }

    @Override
    public String toString() {
      return "energy-ratio(ε = " + epsilon + ")";
    }
  }

  /** See {@link Penalty#fixed}. */
  final class Fixed implements Penalty {
    private static final long serialVersionUID = 1L;
    private final double lambda;

    private Fixed(double lambda) {
      this.lambda = lambda;
    }

    @Override
    public double[] lambdas(double eAA, double eAN, double eNA, double eNN) {
      return new double[] {lambda, lambda, lambda};
    }

    @Override
    public String name() {
      return "fixed";
    }

    @Override
    public String toString() {
      return "fixed(λ = " + lambda + ")";
    }
  }
}
