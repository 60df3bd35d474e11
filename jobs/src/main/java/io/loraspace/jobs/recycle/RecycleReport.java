package io.loraspace.jobs.recycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.common.recycle.LeaveOneOutPca;
import io.loraspace.jobs.inputs.AdapterCollection;
import io.loraspace.jobs.report.Charts;
import io.loraspace.jobs.output.Manifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The recycle job's basis config, JSON report and HTML report (explained-variance curves, held-out errors). */
final class RecycleReport {
  private RecycleReport() {}

  static ObjectNode basisConfig(RecyclePipeline.Settings s, AdapterCollection c, List<RecyclePipeline.Summary> sums) {
    ObjectNode root = Manifest.json().createObjectNode();
    root.put("format", "loraspace-eigenlorax").put("version", 1);
    root.put("center", s.pca.center).put("scalingFolded", true);
    if (s.pca.components > 0) {
      root.put("components", s.pca.components);
    } else {
      root.put("threshold", s.pca.threshold);
    }
    root.put("pseudoComponents", s.pca.pseudo);
    if (!c.adapters.isEmpty()) {
      root.put("baseModel", c.adapters.get(0).baseModel);
    }
    ObjectNode mods = root.putObject("modules");
    for (RecyclePipeline.Summary sm : sums) {
      ObjectNode m = mods.putObject(sm.module);
      m.put("file", "basis/" + StatsStore.fileSafe(sm.module) + ".safetensors");
      m.put("adapters", sm.adapterIndex.size());
      for (int i = 0; i < 2; i++) {
        ObjectNode f = m.putObject(String.valueOf(RecycleTasks.FACTORS[i]));
        f.put("dim", sm.dim[i]).put("vectors", sm.vectors[i]).put("principalComponents", sm.principal[i])
            .put("pseudoComponents", sm.size[i] - sm.principal[i]);
      }
    }
    ArrayNode ad = root.putArray("adapters");
    c.adapters.forEach(a -> ad.add(a.dir));
    return root;
  }

  static ObjectNode summary(RecyclePipeline.Settings s, AdapterCollection c, List<RecyclePipeline.Summary> sums,
      List<RecycleTasks.FoldResult> folds) {
    ObjectNode root = Manifest.json().createObjectNode();
    root.put("collection", s.adapters).put("adapters", c.adapters.size()).put("skipped", c.skipped.size());
    ObjectNode sk = root.putObject("skippedAdapters");
    c.skipped.forEach(sk::put);
    root.put("center", s.pca.center);
    root.put("selection", s.pca.components > 0 ? "K = " + s.pca.components : "threshold " + s.pca.threshold);
    root.put("gapTolerance", s.gapTolerance);
    Map<String, List<Double>> held = new TreeMap<>();
    Map<String, Integer> solvers = new TreeMap<>();
    ArrayNode smallGapFolds = Manifest.json().createArrayNode();
    int aboveOne = 0;
    double maxSin = 0;
    double maxErrDiff = 0;
    int verified = 0;
    double downdateSeconds = 0;
    double exactSeconds = 0;
    int phases = LeaveOneOutPca.Phase.values().length;
    double[] allPhases = new double[phases];
    double[] verifiedPhases = new double[phases];
    double allSeconds = 0;
    for (RecycleTasks.FoldResult f : folds) {
      allSeconds += f.seconds;
      for (int p = 0; p < phases && f.phaseSeconds != null; p++) {
        allPhases[p] += f.phaseSeconds[p];
        if (!Double.isNaN(f.sinAngle)) {
          verifiedPhases[p] += f.phaseSeconds[p];
        }
      }
      held.computeIfAbsent(f.module + "|" + f.factor, k -> new ArrayList<>()).add(f.heldOut);
      solvers.merge(f.solver, 1, Integer::sum);
      if (f.heldOut > 1) {
        aboveOne++;
      }
      if (smallGap(f.gap, s.gapTolerance)) {
        smallGapFolds.addObject().put("adapter", c.adapters.get(f.adapter).dir).put("module", f.module)
            .put("factor", String.valueOf(f.factor)).put("gapAtK", f.gap).put("components", f.components)
            .put("solver", f.solver);
      }
      if (!Double.isNaN(f.sinAngle)) {
        verified++;
        maxSin = Math.max(maxSin, f.sinAngle);
        maxErrDiff = Math.max(maxErrDiff, Math.abs(f.heldOut - f.exactHeldOut) / Math.max(1e-300, f.exactHeldOut));
        downdateSeconds += f.seconds;
        exactSeconds += f.exactSeconds;
      }
    }
    ArrayNode mods = root.putArray("modules");
    for (RecyclePipeline.Summary sm : sums) {
      for (int i = 0; i < 2; i++) {
        ObjectNode m = mods.addObject();
        m.put("module", sm.module).put("factor", String.valueOf(RecycleTasks.FACTORS[i])).put("dim", sm.dim[i])
            .put("adapters", sm.adapterIndex.size()).put("vectors", sm.vectors[i])
            .put("principalComponents", sm.principal[i]).put("pseudoComponents", sm.size[i] - sm.principal[i]);
        double cum = 0;
        for (double r : sm.ratios[i]) {
          cum += r;
        }
        m.put("explainedVarianceRatio", cum);
        if (!Double.isNaN(sm.gap[i])) {
          m.put("gapAtK", sm.gap[i]);
        }
        m.put("smallGap", smallGap(sm.gap[i], s.gapTolerance));
        // Module fits are never iterative: dsyevr on the whole spectrum (threshold mode, leave-one-out) or on K + 1.
        m.put("solver", sm.spectrumRatios[i] != null ? "dsyevr-full" : "dsyevr-top");
        putArray(m, "componentRatios", sm.ratios[i]);
        if (sm.spectrumRatios[i] != null) {
          putArray(m, "spectrumRatios", sm.spectrumRatios[i]);
        }
        m.put("meanInSampleError", mean(sm.inSample[i]));
        List<Double> h = held.get(sm.module + "|" + RecycleTasks.FACTORS[i]);
        if (h != null) {
          double[] v = h.stream().mapToDouble(Double::doubleValue).toArray();
          Arrays.sort(v);
          m.put("meanHeldOutError", mean(v)).put("medianHeldOutError", v[v.length / 2])
              .put("maxHeldOutError", v[v.length - 1]);
        }
      }
    }
    if (verified > 0) {
      ObjectNode v = root.putObject("verification");
      v.put("folds", verified).put("maxSinPrincipalAngle", maxSin).put("maxRelativeHeldOutErrorDifference",
          maxErrDiff).put("downdateSeconds", downdateSeconds).put("recomputeSeconds", exactSeconds)
          .put("speedUp", exactSeconds / Math.max(1e-12, downdateSeconds));
      // Against the mean fold of the whole run: the verified folds are few, and their downdate shares the task
      // with the recomputation that times it.
      v.put("meanFoldSeconds", allSeconds / folds.size())
          .put("speedUpOverMeanFold", exactSeconds / verified / Math.max(1e-12, allSeconds / folds.size()));
      phases(v.putObject("verifiedFoldPhaseSeconds"), verifiedPhases);
    }
    if (!folds.isEmpty()) {
      root.put("leaveOneOutFoldSeconds", allSeconds);
      phases(root.putObject("leaveOneOutPhaseSeconds"), allPhases);
      ObjectNode sv = root.putObject("foldSolvers");
      solvers.forEach(sv::put);
      root.put("foldsWithSmallGap", smallGapFolds.size());
      root.set("smallGapFolds", smallGapFolds);
      root.put("heldOutErrorsAboveOne", aboveOne);
    }
    ArrayNode all = root.putArray("heldOutErrors");
    for (RecycleTasks.FoldResult f : folds) {
      all.add(f.heldOut);
    }
    return root;
  }

  /** Whether a relative gap at K is below the tolerance (NaN, K = the whole space, is never flagged). */
  static boolean smallGap(double gap, double tolerance) {
    return !Double.isNaN(gap) && gap < tolerance;
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return v.length == 0 ? Double.NaN : s / v.length;
  }

  private static void putArray(ObjectNode n, String key, double[] v) {
    ArrayNode a = n.putArray(key);
    for (double x : v) {
      a.add(x);
    }
  }

  /** Curves per plot, and plots at most, in the explained-variance figure. */
  static final int CURVES_PER_PLOT = 10;
  static final int MAX_PLOTS = 12;

  static String html(JsonNode r) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>loraspace recycle</title><style>")
        .append("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;")
        .append("padding:3px 8px;text-align:right}th{background:#eee}.warn{color:#a40}</style></head><body>");
    b.append("<h1>EigenLoRAx basis of ").append(Charts.esc(r.path("collection").asText())).append("</h1>");
    b.append("<p>").append(r.path("adapters").asInt()).append(" adapters (").append(r.path("skipped").asInt())
        .append(" skipped), selection ").append(Charts.esc(r.path("selection").asText())).append(", ")
        .append(r.path("center").asBoolean() ? "centred" : "uncentred").append(".</p>");
    explainedVariance(b, r.path("modules"));
    heldOut(b, r);
    JsonNode ver = r.path("verification");
    if (!ver.isMissingNode()) {
      b.append("<p>Verified against exact recomputation on ").append(ver.path("folds").asInt())
          .append(" random folds: max sin θ ").append(Charts.fmt(ver.path("maxSinPrincipalAngle").asDouble()))
          .append(", max relative held-out error difference ")
          .append(Charts.fmt(ver.path("maxRelativeHeldOutErrorDifference").asDouble())).append(", ")
          .append(speed(ver.path("speedUp").asDouble())).append(".</p>");
    }
    JsonNode ph = r.path("leaveOneOutPhaseSeconds");
    if (ph.isObject()) {
      b.append("<p>Leave-one-out folds: ").append(Charts.fmt(r.path("leaveOneOutFoldSeconds").asDouble()))
          .append(" s in all; by phase");
      for (LeaveOneOutPca.Phase p : LeaveOneOutPca.Phase.values()) {
        b.append(p.ordinal() == 0 ? " " : ", ").append(p.id()).append(' ')
            .append(Charts.fmt(ph.path(p.id()).asDouble())).append(" s");
      }
      b.append(" (basis: verified folds only).</p>");
    }
    smallGaps(b, r);
    b.append("<table><tr><th>module</th><th>factor</th><th>dim</th><th>vectors</th><th>K</th><th>explained</th>")
        .append("<th>gap at K</th><th>in-sample error</th><th>held-out mean</th><th>held-out max</th></tr>");
    for (JsonNode m : r.path("modules")) {
      b.append("<tr><td style=\"text-align:left\">").append(Charts.esc(m.path("module").asText()))
          .append("</td><td>").append(m.path("factor").asText()).append("</td><td>").append(m.path("dim").asInt())
          .append("</td><td>").append(m.path("vectors").asLong()).append("</td><td>")
          .append(m.path("principalComponents").asInt()).append("</td><td>")
          .append(Charts.fmt(m.path("explainedVarianceRatio").asDouble())).append("</td><td")
          .append(m.path("smallGap").asBoolean() ? " class=\"warn\">" : ">")
          .append(m.has("gapAtK") ? Charts.fmt(m.path("gapAtK").asDouble()) : "–").append("</td><td>")
          .append(Charts.fmt(m.path("meanInSampleError").asDouble())).append("</td><td>")
          .append(m.has("meanHeldOutError") ? Charts.fmt(m.path("meanHeldOutError").asDouble()) : "–")
          .append("</td><td>")
          .append(m.has("maxHeldOutError") ? Charts.fmt(m.path("maxHeldOutError").asDouble()) : "–")
          .append("</td></tr>");
    }
    b.append("</table></body></html>\n");
    return b.toString();
  }

  private static void phases(ObjectNode into, double[] seconds) {
    for (LeaveOneOutPca.Phase p : LeaveOneOutPca.Phase.values()) {
      into.put(p.id(), seconds[p.ordinal()]);
    }
  }

  /** "downdate 3.2× faster per fold than recomputation", or "… 1.54× slower …" when the ratio is below 1. */
  static String speed(double recomputeOverDowndate) {
    if (recomputeOverDowndate >= 1) {
      return "downdate " + Charts.fmt(recomputeOverDowndate) + "× faster per fold than exact recomputation";
    }
    return "downdate " + Charts.fmt(1 / recomputeOverDowndate) + "× slower per fold than exact recomputation";
  }

  /** Cumulative explained-variance curves, {@link #CURVES_PER_PLOT} (module, factor) pairs per plot. */
  private static void explainedVariance(StringBuilder b, JsonNode modules) {
    List<Charts.Series> curves = new ArrayList<>();
    for (JsonNode m : modules) {
      JsonNode src = m.has("spectrumRatios") ? m.get("spectrumRatios") : m.get("componentRatios");
      if (src.size() == 0) {
        continue;
      }
      double[] x = new double[src.size()];
      double[] cum = new double[src.size()];
      double c = 0;
      for (int i = 0; i < cum.length; i++) {
        c += src.get(i).asDouble();
        cum[i] = c;
        x[i] = i + 1;
      }
      curves.add(new Charts.Series(m.path("module").asText().replaceAll(".*layers\\.", "") + " "
          + m.path("factor").asText(), x, cum, true));
    }
    int shown = Math.min(curves.size(), CURVES_PER_PLOT * MAX_PLOTS);
    b.append("<h2>Cumulative explained variance</h2><p>").append(shown).append(" of ").append(curves.size())
        .append(" (module, factor) pairs shown, ").append(CURVES_PER_PLOT).append(" per plot")
        .append(shown < curves.size() ? ", the first in module order (every pair's ratios are in report.json)" : "")
        .append(".</p>");
    for (int from = 0; from < shown; from += CURVES_PER_PLOT) {
      int to = Math.min(shown, from + CURVES_PER_PLOT);
      b.append(Charts.plot("Cumulative explained variance, pairs " + (from + 1) + "–" + to + " of "
          + curves.size(), "number of components", "explained variance ratio", curves.subList(from, to), false));
    }
  }

  private static void heldOut(StringBuilder b, JsonNode r) {
    JsonNode held = r.path("heldOutErrors");
    if (held.size() == 0) {
      return;
    }
    double[] v = new double[held.size()];
    double max = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = held.get(i).asDouble();
      max = Math.max(max, v[i]);
    }
    int bins = 30;
    double[] x = new double[bins];
    double[] y = new double[bins];
    for (int i = 0; i < bins; i++) {
      x[i] = (i + 0.5) * max / bins;
    }
    for (double e : v) {
      y[Math.min(bins - 1, (int) (e / Math.max(max, 1e-300) * bins))]++;
    }
    b.append(Charts.plot("Held-out (leave-one-out) relative reconstruction error, all folds",
        "‖W − recon‖ / ‖W‖", "folds", List.of(new Charts.Series("folds", x, y, true)), false));
    b.append("<p>Held-out error of adapter i: ‖w − μ_i − V_i V_iᵀ(w − μ_i)‖ / ‖w‖ over its vectors w, with the mean μ_i")
        .append(" and top-K components V_i of the other adapters.");
    if (r.path("center").asBoolean()) {
      b.append(" With centring the reconstruction starts from the mean, so the error can exceed 1: it does when the")
          .append(" adapter's residual off the others' subspace, measured from their mean, is longer than the")
          .append(" adapter itself (an adapter unlike the rest, or small next to the mean); above 1 the basis")
          .append(" reconstructs it worse than zero would.");
    }
    int above = r.path("heldOutErrorsAboveOne").asInt();
    if (above > 0) {
      b.append(" <span class=\"warn\">").append(above).append(" of ").append(v.length)
          .append(" folds have a held-out error above 1.</span>");
    }
    b.append("</p>");
  }

  /** Modules and folds whose relative gap at K is below the tolerance. */
  private static void smallGaps(StringBuilder b, JsonNode r) {
    double tol = r.path("gapTolerance").asDouble();
    JsonNode solvers = r.path("foldSolvers");
    if (!solvers.isMissingNode()) {
      b.append("<p>Fold solvers: ");
      List<String> parts = new ArrayList<>();
      solvers.fields().forEachRemaining(e -> parts.add(e.getValue().asInt() + " " + e.getKey()));
      b.append(Charts.esc(String.join(", ", parts))).append(" (dense: LAPACK on the fold's scatter, where")
          .append(" Lanczos could not certify the subspace).</p>");
    }
    List<String> mods = new ArrayList<>();
    for (JsonNode m : r.path("modules")) {
      if (m.path("smallGap").asBoolean()) {
        mods.add(m.path("module").asText() + " " + m.path("factor").asText() + " ("
            + Charts.fmt(m.path("gapAtK").asDouble()) + ")");
      }
    }
    int folds = r.path("foldsWithSmallGap").asInt();
    if (mods.isEmpty() && folds == 0) {
      return;
    }
    b.append("<p class=\"warn\">Relative gap at K, (λ_K − λ_{K+1}) / λ_1, below gap-tolerance = ")
        .append(Charts.fmt(tol)).append(": the K-th component is not well determined (a relative change of")
        .append(" the data of that size can swap it with the next one). ");
    if (!mods.isEmpty()) {
      b.append(mods.size()).append(" module factors: ").append(Charts.esc(String.join(", ", mods)))
          .append(". ");
    }
    if (folds > 0) {
      b.append(folds).append(" folds (the errors table's fold_small_gap column; ");
      int listed = 0;
      for (JsonNode f : r.path("smallGapFolds")) {
        if (listed++ == 10) {
          b.append("…");
          break;
        }
        b.append(listed > 1 ? "; " : "").append(Charts.esc(f.path("adapter").asText())).append(" ")
            .append(Charts.esc(f.path("module").asText())).append(" ").append(f.path("factor").asText())
            .append(" gap ").append(Charts.fmt(f.path("gapAtK").asDouble()));
      }
      b.append(").");
    }
    b.append(" Choose K at a larger gap (see the curves), or treat these components as uncertain.</p>");
  }
}
