package io.loraspace.common.correct;

import io.loraspace.common.linalg.DenseMatrix;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A method's outcome for one (adapter, module): the corrected factors in the adapter's own rank and scaling
 * ({@code null} for a factor the method leaves as it was) and named figures for the report, in a stable order.
 */
public final class ModuleCorrection {
  private final DenseMatrix a;
  private final DenseMatrix b;
  private final Map<String, Double> figures;

  public ModuleCorrection(DenseMatrix a, DenseMatrix b, Map<String, Double> figures) {
    this.a = a;
    this.b = b;
    this.figures = Collections.unmodifiableMap(new LinkedHashMap<>(figures));
  }

  /** Corrected lora_A (r×in), or null when unchanged. */
  public DenseMatrix a() {
    return a;
  }

  /** Corrected lora_B (out×r), or null when unchanged. */
  public DenseMatrix b() {
    return b;
  }

  /** Report figures; NaN where a figure is undefined (e.g. a cosine of a zero update). */
  public Map<String, Double> figures() {
    return figures;
  }

  public double figure(String name) {
    Double v = figures.get(name);
    if (v == null) {
      throw new IllegalArgumentException("No figure '" + name + "' (figures: " + figures.keySet() + ")");
    }
    return v;
  }
}
