package io.loraspace.jobs.recycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.jobs.report.SvgPlot;
import io.loraspace.jobs.inputs.AdapterCollection;
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
    Map<String, List<Double>> held = new TreeMap<>();
    double maxSin = 0;
    double maxErrDiff = 0;
    int verified = 0;
    double downdateSeconds = 0;
    double exactSeconds = 0;
    for (RecycleTasks.FoldResult f : folds) {
      held.computeIfAbsent(f.module + "|" + f.factor, k -> new ArrayList<>()).add(f.heldOut);
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
    }
    ArrayNode all = root.putArray("heldOutErrors");
    for (RecycleTasks.FoldResult f : folds) {
      all.add(f.heldOut);
    }
    return root;
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

  static String html(JsonNode r) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>loraspace recycle</title><style>")
        .append("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;")
        .append("padding:3px 8px;text-align:right}th{background:#eee}</style></head><body>");
    b.append("<h1>EigenLoRAx basis of ").append(SvgPlot.esc(r.path("collection").asText())).append("</h1>");
    b.append("<p>").append(r.path("adapters").asInt()).append(" adapters (").append(r.path("skipped").asInt())
        .append(" skipped), selection ").append(SvgPlot.esc(r.path("selection").asText())).append(", ")
        .append(r.path("center").asBoolean() ? "centred" : "uncentred").append(".</p>");
    // Explained-variance curves (cumulative), one series per (module, factor), at most 10 drawn.
    List<SvgPlot.Series> curves = new ArrayList<>();
    for (JsonNode m : r.path("modules")) {
      JsonNode src = m.has("spectrumRatios") ? m.get("spectrumRatios") : m.get("componentRatios");
      double[] cum = new double[src.size()];
      double c = 0;
      for (int i = 0; i < cum.length; i++) {
        c += src.get(i).asDouble();
        cum[i] = c;
      }
      if (curves.size() < 10 && cum.length > 0) {
        double[] x = new double[cum.length];
        for (int i = 0; i < x.length; i++) {
          x[i] = i + 1;
        }
        curves.add(new SvgPlot.Series(m.path("module").asText().replaceAll(".*layers\\.", "")
            + " " + m.path("factor").asText(), x, cum, true));
      }
    }
    b.append(SvgPlot.plot("Cumulative explained variance (first 10 module factors)", "number of components",
        "explained variance ratio", curves, false));
    JsonNode held = r.path("heldOutErrors");
    if (held.size() > 0) {
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
      b.append(SvgPlot.plot("Held-out (leave-one-out) relative reconstruction error, all folds",
          "‖W − recon‖ / ‖W‖", "folds", List.of(new SvgPlot.Series("folds", x, y, true)), false));
    }
    JsonNode ver = r.path("verification");
    if (!ver.isMissingNode()) {
      b.append("<p>Verified against exact recomputation on ").append(ver.path("folds").asInt())
          .append(" random folds: max sin θ ").append(SvgPlot.fmt(ver.path("maxSinPrincipalAngle").asDouble()))
          .append(", max relative held-out error difference ")
          .append(SvgPlot.fmt(ver.path("maxRelativeHeldOutErrorDifference").asDouble()))
          .append(", downdate ").append(SvgPlot.fmt(ver.path("speedUp").asDouble()))
          .append("× faster per fold.</p>");
    }
    b.append("<table><tr><th>module</th><th>factor</th><th>dim</th><th>vectors</th><th>K</th><th>explained</th>")
        .append("<th>in-sample error</th><th>held-out mean</th><th>held-out max</th></tr>");
    for (JsonNode m : r.path("modules")) {
      b.append("<tr><td style=\"text-align:left\">").append(SvgPlot.esc(m.path("module").asText()))
          .append("</td><td>").append(m.path("factor").asText()).append("</td><td>").append(m.path("dim").asInt())
          .append("</td><td>").append(m.path("vectors").asLong()).append("</td><td>")
          .append(m.path("principalComponents").asInt()).append("</td><td>")
          .append(SvgPlot.fmt(m.path("explainedVarianceRatio").asDouble())).append("</td><td>")
          .append(SvgPlot.fmt(m.path("meanInSampleError").asDouble())).append("</td><td>")
          .append(m.has("meanHeldOutError") ? SvgPlot.fmt(m.path("meanHeldOutError").asDouble()) : "–")
          .append("</td><td>")
          .append(m.has("maxHeldOutError") ? SvgPlot.fmt(m.path("maxHeldOutError").asDouble()) : "–")
          .append("</td></tr>");
    }
    b.append("</table></body></html>\n");
    return b.toString();
  }
}
