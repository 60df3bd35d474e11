package io.loraspace.jobs.init;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The init job's HTML report: a table of variants, the SC-LoRA β trade-off (output energy of D+ kept inside the
 * adapter's subspace against that of D−) and per-module spectra, as inline SVG (no scripts, no network).
 */
public final class InitReport {
  private InitReport() {}

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

  public static final class Series {
    final String name;
    final double[] x;
    final double[] y;
    final boolean line;

    public Series(String name, double[] x, double[] y, boolean line) {
      this.name = name;
      this.x = x;
      this.y = y;
      this.line = line;
    }
  }

  public static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  public static String fmt(double v) {
    if (v == 0) {
      return "0";
    }
    double a = Math.abs(v);
    return a >= 1e4 || a < 1e-3 ? String.format(Locale.ROOT, "%.3g", v) : String.format(Locale.ROOT, "%.4f", v);
  }

  /** An SVG scatter/line plot; {@code logY} plots log10 of positive values (others are dropped). */
  public static String plot(String title, String xLabel, String yLabel, List<Series> series, boolean logY) {
    int w = 560;
    int h = 340;
    int l = 70;
    int r = 150;
    int t = 30;
    int b = 45;
    double xmin = Double.POSITIVE_INFINITY;
    double xmax = Double.NEGATIVE_INFINITY;
    double ymin = Double.POSITIVE_INFINITY;
    double ymax = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x.length; i++) {
        double y = logY ? (s.y[i] > 0 ? Math.log10(s.y[i]) : Double.NaN) : s.y[i];
        if (!Double.isFinite(y)) {
          continue;
        }
        xmin = Math.min(xmin, s.x[i]);
        xmax = Math.max(xmax, s.x[i]);
        ymin = Math.min(ymin, y);
        ymax = Math.max(ymax, y);
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
        + "font-family='sans-serif' font-size='11'>", w, h));
    sb.append(String.format(Locale.ROOT, "<text x='%d' y='18' font-size='13' font-weight='bold'>%s</text>", l,
        esc(title)));
    if (!Double.isFinite(xmin)) {
      return sb.append("<text x='80' y='100'>no data</text></svg>").toString();
    }
    if (xmax == xmin) {
      xmax = xmin + 1;
      xmin -= 1;
    }
    if (ymax == ymin) {
      ymax = ymin + 1;
      ymin -= 1;
    }
    double pad = 0.05 * (ymax - ymin);
    ymin -= pad;
    ymax += pad;
    final double x0 = xmin;
    final double x1 = xmax;
    final double y0 = ymin;
    final double y1 = ymax;
    int pw = w - l - r;
    int ph = h - t - b;
    java.util.function.DoubleUnaryOperator px = x -> l + (x - x0) / (x1 - x0) * pw;
    java.util.function.DoubleUnaryOperator py = y -> t + ph - (y - y0) / (y1 - y0) * ph;
    sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#999'/>", l,
        t, pw, ph));
    for (int k = 0; k <= 4; k++) {
      double xv = x0 + (x1 - x0) * k / 4;
      double yv = y0 + (y1 - y0) * k / 4;
      sb.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>%s</text>",
          px.applyAsDouble(xv), t + ph + 14, fmt(xv)));
      sb.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' text-anchor='end'>%s</text>", l - 4,
          py.applyAsDouble(yv) + 4, logY ? "1e" + String.format(Locale.ROOT, "%.1f", yv) : fmt(yv)));
      sb.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#eee'/>", l, l + pw,
          py.applyAsDouble(yv), py.applyAsDouble(yv)));
    }
    sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' text-anchor='middle'>%s</text>", l + pw / 2, h - 8,
        esc(xLabel)));
    sb.append(String.format(Locale.ROOT, "<text x='14' y='%d' transform='rotate(-90 14 %d)' text-anchor='middle'>%s"
        + "</text>", t + ph / 2, t + ph / 2, esc(yLabel)));
    for (int k = 0; k < series.size(); k++) {
      Series s = series.get(k);
      String c = COLORS[k % COLORS.length];
      StringBuilder pts = new StringBuilder();
      for (int i = 0; i < s.x.length; i++) {
        double y = logY ? (s.y[i] > 0 ? Math.log10(s.y[i]) : Double.NaN) : s.y[i];
        if (!Double.isFinite(y)) {
          continue;
        }
        double cx = px.applyAsDouble(s.x[i]);
        double cy = py.applyAsDouble(y);
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", cx, cy));
        sb.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>", cx, cy, c));
      }
      if (s.line && pts.length() > 0) {
        sb.append(String.format(Locale.ROOT, "<polyline points='%s' fill='none' stroke='%s'/>", pts, c));
      }
      if (k < 14) {
        sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' fill='%s'>%s</text>", l + pw + 8, t + 12 + 14 * k,
            c, esc(s.name.length() > 22 ? "…" + s.name.substring(s.name.length() - 21) : s.name)));
      }
    }
    return sb.append("</svg>").toString();
  }

  static double[] array(JsonNode n) {
    double[] out = new double[n == null ? 0 : n.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = n.get(i).asDouble();
    }
    return out;
  }

  public static double[] indices(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i + 1;
    }
    return x;
  }

  static String html(JsonNode summary) {
    StringBuilder sb = new StringBuilder("<!DOCTYPE html><html><head><meta charset='utf-8'><title>loraspace init"
        + "</title><style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}"
        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
        + "td:first-child{text-align:left}</style></head><body>");
    sb.append("<h1>loraspace init</h1><p>statistics: <code>").append(esc(summary.path("stats").asText()))
        .append("</code><br>base: <code>").append(esc(summary.path("base").asText()))
        .append("</code><br>D+ = <b>").append(esc(summary.path("plusDataset").asText())).append("</b>, D− = <b>")
        .append(esc(summary.path("minusDataset").asText())).append("</b></p>");
    sb.append("<p>Captured = the fraction of a dataset's per-sample output energy E‖h‖² that lies in the span of "
        + "lora_B (mean over modules). SC-LoRA trades D+ kept against D− touched with β.</p>");
    sb.append("<table><tr><th>variant</th><th>method</th><th>modules</th><th>captured D+</th><th>captured D−</th>"
        + "<th>adapter</th><th>residual</th></tr>");
    List<Series> trade = new ArrayList<>();
    List<Double> bx = new ArrayList<>();
    List<Double> by = new ArrayList<>();
    for (JsonNode v : summary.path("variants")) {
      sb.append("<tr><td>").append(esc(v.path("tag").asText())).append("</td><td>")
          .append(esc(v.path("method").asText())).append("</td><td>").append(v.path("modules").size())
          .append("</td><td>").append(v.has("meanCapturedPlus") ? fmt(v.get("meanCapturedPlus").asDouble()) : "–")
          .append("</td><td>").append(v.has("meanCapturedMinus") ? fmt(v.get("meanCapturedMinus").asDouble()) : "–")
          .append("</td><td><code>").append(esc(v.path("adapter").asText())).append("</code></td><td><code>")
          .append(esc(v.path("residual").asText("–"))).append("</code></td></tr>");
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
      sb.append("<h2>Trade-off</h2>").append(plot("Output energy captured: D+ against D−", "captured D− (mean)",
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
            spectra.add(new Series(m.path("module").asText(), indices(y.length), y, true));
            break;
          }
        }
        if (spectra.size() >= 10) {
          break;
        }
      }
      if (key != null) {
        boolean log = !key.equals("eigenvalues");
        sb.append(plot(v.path("tag").asText() + ": " + key + (log ? " (log)" : ""), "index", key, spectra, log));
      }
    }
    return sb.append("</body></html>").toString();
  }
}
