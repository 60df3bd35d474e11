package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.merge.CoefficientRule.Choice;
import io.loraspace.common.merge.CoefficientRule.Evidence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/** The registered {@link CoefficientRule}s, in report order. */
public final class CoefficientRules {
  private CoefficientRules() {}

  /** A rule as a value: its name, description, whether it needs the grid, and the choice itself. */
  private record Rule(String name, String description, boolean needsGrid, Function<Evidence, Choice> choice)
      implements CoefficientRule {
    @Override
    public Choice choose(Evidence e) {
      return choice.apply(e);
    }
  }

  /** Theorem 3.3: {@code α_i = ρ_pre γ_pre / (γ_i Θ_i)}. */
  static final CoefficientRule OPTIMAL = new Rule("optimal", "Theorem 3.3: α_i = ρ_pre γ_pre / (γ_i Θ_i), the "
      + "union-margin optimum under the theory's assumptions", false,
      e -> e.theory().defined() ? Choice.of(e.theory().optimalAlpha())
          : Choice.none("α* is undefined: " + e.theory().undefinedReason()));

  /** Every α_i = 1: the plain sum of the adapters (task arithmetic; PEFT's add_weighted_adapter with weights 1). */
  static final CoefficientRule SUM = new Rule("sum", "α_i = 1: the plain sum of the adapters (PEFT "
      + "add_weighted_adapter with weights 1)", false, e -> {
        double[] a = new double[e.theory().tasks()];
        Arrays.fill(a, 1.0);
        return Choice.of(a);
      });

  /** The user's α (option {@code alphas}). */
  static final CoefficientRule EXPLICIT = new Rule("explicit", "the coefficients given with the option 'alphas'",
      false, e -> e.explicit() == null ? Choice.none("no coefficients given (option 'alphas')")
          : Choice.of(e.explicit()));

  /** The grid point with the largest measured union margin. */
  static final CoefficientRule GRID_BEST = new Rule("grid-best", "the grid point with the largest measured union "
      + "margin", true, e -> e.gridBest() == null ? Choice.none("the grid has not been evaluated")
          : Choice.of(e.gridBest()));

  private static final List<CoefficientRule> ALL = List.of(OPTIMAL, SUM, EXPLICIT, GRID_BEST);

  public static List<CoefficientRule> all() {
    return ALL;
  }

  public static List<String> names() {
    List<String> out = new ArrayList<>();
    ALL.forEach(r -> out.add(r.name()));
    return out;
  }

  /** The rule named {@code name}; an unknown name fails listing the known ones. */
  public static CoefficientRule get(String name) {
    for (CoefficientRule r : ALL) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    throw new ArgumentException("Unknown coefficient rule '" + name + "' (known: " + names() + ")");
  }
}
