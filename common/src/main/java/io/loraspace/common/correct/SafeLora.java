package io.loraspace.common.correct;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * SafeLoRA, the baseline (Hsu et al. 2024), with the semantics of HF PEFT PR #2201 ({@code src/peft/utils/safelora.py},
 * unmerged; METHODS.md): {@code C = V Vᵀ / ‖V‖_F} with {@code V = W_aligned − W_base} (out×out, symmetric PSD,
 * trace ‖V‖_F, not a projector), the projected factor {@code B' = C B}; a module is projected when
 * {@code cos(vec(C B A), vec(B A))}, rounded to 5 decimals (numpy's round half to even), is at or below the cut:
 * the threshold (mode {@code threshold}) or the k-th smallest rounded cosine of the adapter, ties included (mode
 * {@code number}, the PR's default, k = {@code num_proj_layers} = 10).
 *
 * <p>Deliberate differences from the PR: each selected module is projected exactly once from the original B (the PR's
 * number mode re-runs on weights its first pass already projected, giving C²B); checkpoint weights are paired with
 * LoRA modules by name (the PR zips two filtered lists by position); all arithmetic is float64 (the PR uses float32
 * on CPU, bfloat16 on GPU), which can move a cosine across a rounding boundary. Kept from the PR: a module with V = 0
 * has an undefined cosine (NaN), is never selected, and sorts last in number mode (so, as there, a cut that lands on it
 * selects nothing); a zero update has cosine 0.
 *
 * <p>Factored: {@code C B = V (Vᵀ B) / ‖V‖_F} and the cosine from r×r Grams; C is never formed.
 */
public final class SafeLora implements CorrectionMethod {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "safelora";

  /** How modules are selected. */
  public enum Selection {
    /** The k lowest rounded cosines of the adapter, ties included. */
    NUMBER,
    /** Rounded cosine ≤ threshold. */
    THRESHOLD
  }

  private final Selection selection;
  private final double threshold;
  private final int layers;

  public SafeLora(Selection selection, double threshold, int layers) {
    if (!Double.isFinite(threshold)) {
      throw new ArgumentException("SafeLoRA threshold is " + threshold + ", expected a finite value");
    }
    if (layers < 1) {
      throw new ArgumentException("SafeLoRA number of projected layers is " + layers + ", expected ≥ 1");
    }
    this.selection = selection;
    this.threshold = threshold;
    this.layers = layers;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public ModuleCorrection correct(Displacement displacement, LoraUpdate update) {
    Map<String, Double> f = new LinkedHashMap<>();
    double norm = Math.sqrt(displacement.energy());
    double s = update.scaling();
    double deltaNorm = s * Math.sqrt(Math.max(0, update.unscaledEnergy()));
    if (norm == 0) {
      f.put("cos", Double.NaN);
      f.put("cosUnrounded", Double.NaN);
      f.put("deltaNorm", deltaNorm);
      f.put("projectedDeltaNorm", Double.NaN);
      return new ModuleCorrection(null, null, f);
    }
    DenseMatrix v = displacement.matrix();
    DenseMatrix vtb = Matrices.multiply(v, true, update.b(), false); // in×r
    DenseMatrix cb = Matrices.multiply(v, vtb);
    Matrices.scale(1.0 / norm, cb);
    double cos = cosine(update, cb);
    f.put("cos", round5(cos));
    f.put("cosUnrounded", cos);
    f.put("deltaNorm", deltaNorm);
    f.put("projectedDeltaNorm", s * Math.sqrt(Math.max(0,
        Factored.innerOfProducts(cb, update.a(), cb, update.a()))));
    return new ModuleCorrection(null, cb, f);
  }

  /** cos(vec(C B A), vec(B A)); 0 when either is zero (torch's cosine_similarity of a zero vector). */
  static double cosine(LoraUpdate w, DenseMatrix cb) {
    double dot = Factored.innerOfProducts(cb, w.a(), w.b(), w.a());
    double n1 = Factored.innerOfProducts(cb, w.a(), cb, w.a());
    double n2 = w.unscaledEnergy();
    return n1 <= 0 || n2 <= 0 ? 0.0 : dot / Math.sqrt(n1 * n2);
  }

  /** numpy.round(x, 5): rint(x · 1e5) / 1e5. */
  static double round5(double x) {
    return Math.rint(x * 1e5) / 1e5;
  }

  /** The cut the adapter's modules are compared against (≤); NaN selects nothing. */
  public double cut(Map<String, ModuleCorrection> outcomes) {
    if (selection == Selection.THRESHOLD) {
      return threshold;
    }
    List<Double> cos = new ArrayList<>();
    for (ModuleCorrection c : outcomes.values()) {
      cos.add(c.figure("cos"));
    }
    if (cos.isEmpty()) {
      return Double.NaN;
    }
    cos.sort(Double::compare); // NaN last, as numpy.sort
    return cos.get(Math.min(layers, cos.size()) - 1);
  }

  @Override
  public Map<String, Double> selectionFigures(Map<String, ModuleCorrection> outcomes) {
    return Map.of("cut", cut(outcomes));
  }

  @Override
  public Set<String> select(Map<String, ModuleCorrection> outcomes) {
    double cut = cut(outcomes);
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, ModuleCorrection> e : outcomes.entrySet()) {
      if (e.getValue().figure("cos") <= cut) {
        out.add(e.getKey());
      }
    }
    return out;
  }
}
