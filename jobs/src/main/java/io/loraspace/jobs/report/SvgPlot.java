package io.loraspace.jobs.report;

import java.util.List;
import java.util.Locale;

/** Inline SVG plots and HTML helpers shared by the jobs' reports (no scripts, no network). */
public final class SvgPlot {
  private SvgPlot() {}

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
      "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

  /** One series: points (x, y), joined by a line when {@code line}. */
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

  public static double[] indices(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i + 1;
    }
    return x;
  }

}
