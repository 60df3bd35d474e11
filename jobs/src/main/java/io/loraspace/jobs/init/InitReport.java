package io.loraspace.jobs.init;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.report.Charts;
import io.loraspace.jobs.report.Charts.Series;
import java.util.ArrayList;
import java.util.List;

/**
 * The init job's HTML report: a table of variants, the SC-LoRA β trade-off (output energy of D+ kept inside the
 * adapter's subspace against that of D−) and per-module spectra, as inline SVG (no scripts, no network).
 */
public final class InitReport {
  private InitReport() {}

  static double[] array(JsonNode n) {
    double[] out = new double[n == null ? 0 : n.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = n.get(i).asDouble();
    }
    return out;
  }

  static String html(JsonNode summary) {
    StringBuilder sb = new StringBuilder("<!DOCTYPE html><html><head><meta charset='utf-8'><title>loraspace init"
        + "</title><style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}"
        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
        + "td:first-child{text-align:left}</style></head><body>");
    sb.append("<h1>loraspace init</h1><p>statistics: <code>").append(Charts.esc(summary.path("stats").isTextual() ? summary.path("stats").asText() : "none (data-free methods)"))
        .append("</code><br>base: <code>").append(Charts.esc(summary.path("base").asText()))
        .append("</code><br>D+ = <b>").append(Charts.esc(summary.path("plusDataset").asText())).append("</b>, D− = <b>")
        .append(Charts.esc(summary.path("minusDataset").asText())).append("</b></p>");
    sb.append("<p>Captured = the fraction of a dataset's per-sample output energy E‖h‖² that lies in the span of "
        + "lora_B (mean over modules). SC-LoRA trades D+ kept against D− touched with β.</p>");
    sb.append("<table><tr><th>variant</th><th>method</th><th>modules</th><th>captured D+</th><th>captured D−</th>"
        + "<th>adapter</th><th>residual</th></tr>");
    List<Series> trade = new ArrayList<>();
    List<Double> bx = new ArrayList<>();
    List<Double> by = new ArrayList<>();
    for (JsonNode v : summary.path("variants")) {
      sb.append("<tr><td>").append(Charts.esc(v.path("tag").asText())).append("</td><td>")
          .append(Charts.esc(v.path("method").asText())).append("</td><td>").append(v.path("modules").size())
          .append("</td><td>").append(v.has("meanCapturedPlus") ? Charts.fmt(v.get("meanCapturedPlus").asDouble()) : "–")
          .append("</td><td>").append(v.has("meanCapturedMinus") ? Charts.fmt(v.get("meanCapturedMinus").asDouble()) : "–")
          .append("</td><td><code>").append(Charts.esc(v.path("adapter").asText())).append("</code></td><td><code>")
          .append(Charts.esc(v.path("residual").asText("–"))).append("</code></td></tr>");
      if (v.has("meanCapturedPlus")) {
        if (v.path("method").asText().equals("sc-lora")) {
          bx.add(v.get("meanCapturedMinus").asDouble());
          by.add(v.get("meanCapturedPlus").asDouble());
        } else {
          trade.add(new Series(v.path("tag").asText(), new double[] {v.get("meanCapturedMinus").asDouble()},
              new double[] {v.get("meanCapturedPlus").asDouble()}, false));
        }
      }
    }
    sb.append("</table>");
    if (!bx.isEmpty()) {
      trade.add(0, new Series("SC-LoRA (β)", bx.stream().mapToDouble(Double::doubleValue).toArray(),
          by.stream().mapToDouble(Double::doubleValue).toArray(), true));
    }
    if (!trade.isEmpty()) {
      sb.append("<h2>Trade-off</h2>").append(Charts.plot("Output energy captured: D+ against D−", "captured D− (mean)",
          "captured D+ (mean)", trade, false));
    }
    sb.append("<h2>Spectra</h2>");
    for (JsonNode v : summary.path("variants")) {
      List<Series> spectra = new ArrayList<>();
      String key = null;
      for (JsonNode m : v.path("modules")) {
        for (String k : new String[] {"eigenvalues", "singularValues", "explainedVarianceRatio"}) {
          if (m.has(k)) {
            key = k;
            double[] y = array(m.get(k));
            spectra.add(new Series(m.path("module").asText(), Charts.indices(y.length), y, true));
            break;
          }
        }
        if (spectra.size() >= 10) {
          break;
        }
      }
      if (key != null) {
        boolean log = !key.equals("eigenvalues");
        sb.append(Charts.plot(v.path("tag").asText() + ": " + key + (log ? " (log)" : ""), "index", key, spectra, log));
      }
    }
    return sb.append("</body></html>").toString();
  }
}
