package io.loraspace.common.correct;

import java.io.Serializable;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A post-hoc correction of trained LoRA adapters toward a base/aligned displacement, one value per method (CSULoRA,
 * SafeLoRA): {@link #correct} runs per (adapter, module) against the module's shared {@link Displacement};
 * {@link #select} then decides, per adapter, which modules take their corrected factors (a method that ranks modules
 * across the adapter, like SafeLoRA's "k lowest", needs every module's outcome first). Instances carry their options,
 * are immutable and serializable (they travel to Spark executors).
 */
public interface CorrectionMethod extends Serializable {
  /** Name used in options, output directories and reports (kebab-case). */
  String name();

  /** The corrected factors and report figures of one module of one adapter. */
  ModuleCorrection correct(Displacement displacement, LoraUpdate update);

  /** Of one adapter's outcomes (module → outcome), the modules written corrected; by default all of them. */
  default Set<String> select(Map<String, ModuleCorrection> outcomes) {
    return new TreeSet<>(outcomes.keySet());
  }

  /** Figures of one adapter's selection (e.g. the cut it applied), for the report; empty by default. */
  default Map<String, Double> selectionFigures(Map<String, ModuleCorrection> outcomes) {
    return Map.of();
  }

  /** Per-module figures describing the shared subspace this method used, or an empty map. */
  default Map<String, Double> subspaceFigures(Displacement displacement) {
    return Map.of();
  }
}
