package io.loraspace.jobs.correct;

import io.loraspace.common.correct.CorrectionMethod;
import io.loraspace.common.correct.CsuLora;
import io.loraspace.common.correct.Penalty;
import io.loraspace.common.correct.SafeLora;
import io.loraspace.common.linalg.EnergySubspace;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The correction methods the {@code correct} job offers, registered once: each binds a method of
 * {@code io.loraspace.common.correct} to its options (prefixed with its name) and builds it from resolved options.
 * The job declares the union of their options and loops over the chosen ones.
 */
final class CorrectMethods {
  private CorrectMethods() {}

  /** One method: its name, its options, and how to build it. */
  static final class Binding {
    final String name;
    final OptionSpec options;
    final Function<Options, CorrectionMethod> factory;

    Binding(String name, OptionSpec options, Function<Options, CorrectionMethod> factory) {
      this.name = name;
      this.options = options;
      this.factory = factory;
    }
  }

  static final Binding CSULORA = new Binding(CsuLora.NAME, OptionSpec.builder()
      .option("csulora-tau", OptionType.DOUBLE, "0.9", "τ: the alignment subspaces U, V hold this share of "
          + "‖W_aligned − W_base‖_F² (reconstructed choice, METHODS.md)", v -> (Double) v > 0 && (Double) v <= 1,
          "a double in (0, 1]")
      .choice("csulora-penalty", "energy-ratio", List.of("energy-ratio", "fixed"), "Penalty form (reconstructed): "
          + "energy-ratio λ_b = E_b / (E_AA + ε‖ΔW‖²); fixed λ_b = csulora-lambda")
      .option("csulora-epsilon", OptionType.DOUBLE, "0.001", "ε of the energy-ratio penalty",
          v -> (Double) v > 0, "a double > 0")
      .option("csulora-lambda", OptionType.DOUBLE, "1", "λ of the fixed penalty", v -> (Double) v >= 0,
          "a double ≥ 0")
      .intOption("csulora-oversampling", 10, 0, 1 << 16, "Range finder: extra sketch columns")
      .intOption("csulora-initial-rank", 16, 1, 1 << 20, "Range finder: first sketch size before oversampling "
          + "(doubled until τ is reached)")
      .intOption("csulora-power-iterations", 2, 0, 1000, "Range finder: power iterations always done")
      .intOption("csulora-max-power-iterations", 30, 0, 100_000, "Range finder: at most this many power iterations "
          + "while the Ritz residual is above csulora-tolerance")
      .option("csulora-tolerance", OptionType.DOUBLE, "1e-8", "Range finder: stop once max_j ‖D v_j − σ_j u_j‖ ≤ "
          + "this × σ_1 (0: after csulora-power-iterations)", v -> (Double) v >= 0, "a double ≥ 0")
      .build(), CorrectMethods::csuLora);

  static final Binding SAFELORA = new Binding(SafeLora.NAME, OptionSpec.builder()
      .choice("safelora-select", "number", List.of("number", "threshold"), "SafeLoRA module selection (PEFT PR "
          + "#2201): the safelora-layers lowest cosines (ties included), or cosines ≤ safelora-threshold")
      .option("safelora-threshold", OptionType.DOUBLE, "0.5", "SafeLoRA cosine threshold (select=threshold)")
      .intOption("safelora-layers", 10, 1, 1 << 20, "SafeLoRA num_proj_layers (select=number)")
      .build(), o -> new SafeLora(SafeLora.Selection.valueOf(o.getString("safelora-select").toUpperCase(Locale.ROOT)),
          o.getDouble("safelora-threshold"), o.getInt("safelora-layers")));

  /** Every method, in the order help lists them. */
  static final List<Binding> ALL = List.of(CSULORA, SAFELORA);

  static List<String> names() {
    List<String> out = new ArrayList<>();
    ALL.forEach(b -> out.add(b.name));
    return out;
  }

  /** The union of the methods' options. */
  static OptionSpec options() {
    OptionSpec spec = OptionSpec.builder().build();
    for (Binding b : ALL) {
      spec = spec.plus(b.options);
    }
    return spec;
  }

  /** The methods named in option {@code methods}, built from the options. */
  static List<CorrectionMethod> chosen(Options o) {
    List<CorrectionMethod> out = new ArrayList<>();
    for (String name : o.getStringList("methods")) {
      for (Binding b : ALL) {
        if (b.name.equals(name)) {
          out.add(b.factory.apply(o));
        }
      }
    }
    return out;
  }

  private static CorrectionMethod csuLora(Options o) {
    EnergySubspace.Options s = new EnergySubspace.Options();
    s.energy = o.getDouble("csulora-tau");
    s.oversampling = o.getInt("csulora-oversampling");
    s.initialRank = o.getInt("csulora-initial-rank");
    s.powerIterations = o.getInt("csulora-power-iterations");
    s.maxPowerIterations = Math.max(s.powerIterations, o.getInt("csulora-max-power-iterations"));
    s.tolerance = o.getDouble("csulora-tolerance");
    s.seed = o.getLong("seed");
    Penalty p = o.getString("csulora-penalty").equals("fixed") ? Penalty.fixed(o.getDouble("csulora-lambda"))
        : Penalty.energyRatio(o.getDouble("csulora-epsilon"));
    return new CsuLora(s, p);
  }
}
