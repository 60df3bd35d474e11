package io.loraspace.common.merge;

/**
 * One way of choosing the merge coefficients α (length N) of {@code W(α) = W_pre + Σ α_i ΔW_i}. Rules are values
 * registered once in {@link CoefficientRules}; the merge job evaluates every rule's α on the data and writes the merged
 * head of the one the user picks.
 */
public interface CoefficientRule {
  /** What a rule can use: the theory's quantities, the user's explicit α (or null), the grid's best point (or null). */
  record Evidence(MergeTheory theory, double[] explicit, double[] gridBest) {}

  /** A rule's answer: α, or null with the reason. */
  record Choice(double[] alpha, String reason) {
    public static Choice of(double[] alpha) {
      return new Choice(alpha.clone(), null);
    }

    public static Choice none(String reason) {
      return new Choice(null, reason);
    }

    public boolean defined() {
      return alpha != null;
    }
  }

  /** Kebab-case name, used in options and reports. */
  String name();

  /** One line for help and reports. */
  String description();

  /** True when the rule needs the grid's measured margins (it is chosen after the grid pass). */
  boolean needsGrid();

  Choice choose(Evidence evidence);
}
