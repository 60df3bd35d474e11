package io.loraspace.jobs.init;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.List;

/** Initialisation methods of the init job, by their option names. */
public enum Method {
  SC_LORA("sc-lora", true),
  CORDA_IPA("corda-ipa", true),
  CORDA_KPA("corda-kpa", true),
  EVA("eva", false),
  PISSA("pissa", true),
  LORA_DA("lora-da", false),
  LORA_ONE("lora-one", false);

  public final String id;
  /** True when the method's factors replace part of W (a residual checkpoint is written). */
  public final boolean residual;

  Method(String id, boolean residual) {
    this.id = id;
    this.residual = residual;
  }

  public static Method parse(String s) {
    List<String> ids = new ArrayList<>();
    for (Method m : values()) {
      if (m.id.equals(s.trim())) {
        return m;
      }
      ids.add(m.id);
    }
    throw new ArgumentException("Option 'methods' has unknown method '" + s + "', expected one of " + ids);
  }

  /** Whether the method needs statistics of the fine-tuning set D+ / the preserved set D−. */
  public boolean needsPlus() {
    return this == SC_LORA || this == CORDA_IPA || this == EVA || this == LORA_DA || this == LORA_ONE;
  }

  /** Whether the method needs the gradient statistics of D+ (captured with --gradients). */
  public boolean needsGradients() {
    return this == LORA_DA || this == LORA_ONE;
  }

  public boolean needsMinus() {
    return this == SC_LORA || this == CORDA_KPA;
  }
}
