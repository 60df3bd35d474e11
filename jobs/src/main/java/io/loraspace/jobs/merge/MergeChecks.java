package io.loraspace.jobs.merge;

import io.loraspace.common.merge.FeatureGeometry;
import io.loraspace.common.merge.MergeTheory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The theory's assumptions (METHODS.md, "Merging and forgetting"), each as the quantity measured on the data and the
 * weights, its tolerance, and whether it holds: every component classifies its own data (margins &gt; 0), unit-norm
 * features, tasks orthogonal to each other and to the pre-training data (seen through the weights: the pre-trained
 * head on task data, each adapter on every other dataset, and the Frobenius cosines of the components).
 */
final class MergeChecks {
  /** One assumption: what was measured, its value, the tolerance, and whether it holds. */
  record Check(String assumption, String quantity, double measured, double tolerance, boolean holds, String detail) {}

  private MergeChecks() {}

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  /**
   * @param datasetNames 0 = pre, i = task i
   * @param worstPre where γ_pre is attained; {@code worstTask[i]} where γ_{i+1} is
   */
  static List<Check> of(MergeTheory t, FeatureGeometry geo, double[] gram, List<String> datasetNames,
      String worstPre, String[] worstTask, double orthoTol, double normTol) {
    List<Check> out = new ArrayList<>();
    int n = t.tasks();
    out.add(new Check("D_pre separable by W_pre", "γ_pre = γ(W_pre; D_pre)", t.gammaPre(), 0, t.gammaPre() > 0,
        "smallest margin at " + worstPre));
    for (int i = 0; i < n; i++) {
      out.add(new Check("D_" + (i + 1) + " separable by ΔW_" + (i + 1), "γ_" + (i + 1) + " = γ(ΔW_" + (i + 1)
          + "; D_" + (i + 1) + ")", t.gamma(i), 0, t.gamma(i) > 0, "smallest margin at " + worstTask[i]));
    }
    double normDev = 0;
    String normAt = "";
    for (int d = 0; d <= n; d++) {
      double dev = Math.max(Math.abs(geo.minNorm(d) - 1), Math.abs(geo.maxNorm(d) - 1));
      if (dev > normDev || d == 0) {
        normDev = dev;
        normAt = datasetNames.get(d) + ": ‖x‖ in [" + fmt(geo.minNorm(d)) + ", " + fmt(geo.maxNorm(d)) + "]";
      }
    }
    out.add(new Check("unit-norm features", "max |‖x‖ − 1|", normDev, normTol, normDev <= normTol, normAt));
    for (int i = 0; i < n; i++) {
      double leak = geo.maxGain(i + 1, 0) / t.rho();
      out.add(new Check("D_" + (i + 1) + " orthogonal to D_pre", "max ‖W_pre x‖ / (ρ_pre ‖x‖) on D_" + (i + 1), leak,
          orthoTol, leak <= orthoTol, "0 when the pre-trained head lies in the span of D_pre and D_" + (i + 1)
          + " ⟂ D_pre"));
    }
    for (int i = 0; i < n; i++) {
      double leak = 0;
      String where = "";
      for (int d = 0; d <= n; d++) {
        if (d != i + 1 && geo.maxGain(d, i + 1) / t.theta(i) >= leak) {
          leak = geo.maxGain(d, i + 1) / t.theta(i);
          where = "largest on " + datasetNames.get(d);
        }
      }
      out.add(new Check("ΔW_" + (i + 1) + " blind to the other datasets", "max ‖ΔW_" + (i + 1) + " x‖ / (Θ_" + (i + 1)
          + " ‖x‖) off D_" + (i + 1), leak, orthoTol, leak <= orthoTol, where
          + "; a real adapter trained from a random A is not in its data's span"));
    }
    int c = n + 1;
    double cos = 0;
    String pair = "";
    for (int a = 0; a < c; a++) {
      for (int b = a + 1; b < c; b++) {
        double v = Math.abs(gram[a * c + b]) / Math.sqrt(gram[a * c + a] * gram[b * c + b]);
        if (v >= cos) {
          cos = v;
          pair = name(a) + " and " + name(b);
        }
      }
    }
    if (n >= 1) {
      out.add(new Check("components Frobenius-orthogonal", "max |⟨A, B⟩_F| / (‖A‖_F ‖B‖_F)", cos, orthoTol,
          cos <= orthoTol, "largest for " + pair + "; the prediction's ‖W(α)‖_F = sqrt(ρ² + Σ α²Θ²) needs 0"));
    }
    return out;
  }

  private static String name(int component) {
    return component == 0 ? "W_pre" : "ΔW_" + component;
  }
}
