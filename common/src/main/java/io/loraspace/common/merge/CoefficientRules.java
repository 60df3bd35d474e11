package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The registered {@link CoefficientRule}s, in report order. */
public final class CoefficientRules {
  private CoefficientRules() {}

  /** Theorem 3.3: {@code α_i = ρ_pre γ_pre / (γ_i Θ_i)}. */
  static final CoefficientRule OPTIMAL = new CoefficientRule() {
    @Override
    public String name() {
      return "optimal";
    }

    @Override
    public String description() {
      return "Theorem 3.3: α_i = ρ_pre γ_pre / (γ_i Θ_i), the union-margin optimum under the theory's assumptions";
    }

    @Override
    public boolean needsGrid() {
      return false;
    }

    @Override
    public Choice choose(Evidence e) {
      return e.theory().defined() ? Choice.of(e.theory().optimalAlpha())
          : Choice.none("α* is undefined: " + e.theory().undefinedReason());
    }
  };

  /** Every α_i = 1: the plain sum of the adapters (task arithmetic; PEFT's add_weighted_adapter with weights 1). */
  static final CoefficientRule SUM = new CoefficientRule() {
    @Override
    public String name() {
      return "sum";
    }

    @Override
    public String description() {
      return "α_i = 1: the plain sum of the adapters (PEFT add_weighted_adapter with weights 1)";
    }

    @Override
    public boolean needsGrid() {
      return false;
    }

    @Override
    public Choice choose(Evidence e) {
      double[] a = new double[e.theory().tasks()];
      Arrays.fill(a, 1.0);
      return Choice.of(a);
    }
  };

  /** The user's α (option {@code alphas}). */
  static final CoefficientRule EXPLICIT = new CoefficientRule() {
    @Override
    public String name() {
      return "explicit";
    }

    @Override
    public String description() {
      return "the coefficients given with the option 'alphas'";
    }

    @Override
    public boolean needsGrid() {
      return false;
    }

    @Override
    public Choice choose(Evidence e) {
      return e.explicit() == null ? Choice.none("no coefficients given (option 'alphas')") : Choice.of(e.explicit());
    }
  };

  /** The grid point with the largest measured union margin. */
  static final CoefficientRule GRID_BEST = new CoefficientRule() {
    @Override
    public String name() {
      return "grid-best";
    }

    @Override
    public String description() {
      return "the grid point with the largest measured union margin";
    }

    @Override
    public boolean needsGrid() {
      return true;
    }

    @Override
    public Choice choose(Evidence e) {
      return e.gridBest() == null ? Choice.none("the grid has not been evaluated") : Choice.of(e.gridBest());
    }
  };

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
