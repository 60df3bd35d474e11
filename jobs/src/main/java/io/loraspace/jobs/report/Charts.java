package io.loraspace.jobs.report;

import java.util.List;
import java.util.Locale;

/**
 * Inline-SVG charts and HTML text helpers shared by the jobs' reports (no scripts, no network): a scatter/line plot
 * and a heatmap.
 */
public final class Charts {
  private Charts() {}

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

  private static StringBuilder start(int w, int h, int l, String title) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
        + "font-family='sans-serif' font-size='11'>", w, h));
    sb.append(String.format(Locale.ROOT, "<text x='%d' y='18' font-size='13' font-weight='bold'>%s</text>", l,
        esc(title)));
    return sb;
  }

  private static String noData(StringBuilder sb) {
    return sb.append("<text x='80' y='100'>no data</text></svg>").toString();
  }

  /** The x label centred at (xCentre, xBaseline), the y label rotated, centred at height yCentre. */
  private static void axisLabels(StringBuilder sb, int xCentre, int xBaseline, int yCentre, String xLabel,
      String yLabel) {
    sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d' text-anchor='middle'>%s</text>", xCentre, xBaseline,
        esc(xLabel)));
    sb.append(String.format(Locale.ROOT, "<text x='14' y='%d' transform='rotate(-90 14 %d)' text-anchor='middle'>%s"
        + "</text>", yCentre, yCentre, esc(yLabel)));
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
    StringBuilder sb = start(w, h, l, title);
    if (!Double.isFinite(xmin)) {
      return noData(sb);
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
    axisLabels(sb, l + pw / 2, h - 8, t + ph / 2, xLabel, yLabel);
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

  /** A point drawn over a heatmap: a star, a triangle or a circle with a legend label. */
  public record Marker(double x, double y, String label, String shape, String color) {}

  private static String color(double t) {
    // viridis-like ramp from dark blue (low) to yellow (high)
    double[][] stops = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    double u = Math.max(0, Math.min(1, t)) * (stops.length - 1);
    int i = Math.min(stops.length - 2, (int) u);
    double f = u - i;
    return String.format(Locale.ROOT, "rgb(%d,%d,%d)", Math.round(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
        Math.round(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
        Math.round(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  }

  /**
   * An SVG heatmap of {@code values[iy * xs.length + ix]} on the lattice {@code xs × ys} (cells centred on the
   * coordinates, NaN cells grey), a colour bar, and markers drawn in data coordinates.
   */
  public static String heatmap(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[] values,
      List<Marker> markers) {
    int w = 560;
    int l = 70;
    int t = 30;
    int pw = 360;
    int ph = 360;
    int h = t + ph + 52 + 14 * markers.size();
    double vmin = Double.POSITIVE_INFINITY;
    double vmax = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      if (Double.isFinite(v)) {
        vmin = Math.min(vmin, v);
        vmax = Math.max(vmax, v);
      }
    }
    StringBuilder sb = start(w, h, l, title);
    if (xs.length == 0 || ys.length == 0 || !Double.isFinite(vmin)) {
      return noData(sb);
    }
    double x0 = xs[0] - (xs.length > 1 ? (xs[1] - xs[0]) / 2 : 0.5);
    double x1 = xs[xs.length - 1] + (xs.length > 1 ? (xs[xs.length - 1] - xs[xs.length - 2]) / 2 : 0.5);
    double y0 = ys[0] - (ys.length > 1 ? (ys[1] - ys[0]) / 2 : 0.5);
    double y1 = ys[ys.length - 1] + (ys.length > 1 ? (ys[ys.length - 1] - ys[ys.length - 2]) / 2 : 0.5);
    double cw = (double) pw / xs.length;
    double ch = (double) ph / ys.length;
    for (int iy = 0; iy < ys.length; iy++) {
      for (int ix = 0; ix < xs.length; ix++) {
        double v = values[iy * xs.length + ix];
        String fill = Double.isFinite(v) ? color(vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.5) : "#ccc";
        sb.append(String.format(Locale.ROOT, "<rect x='%.2f' y='%.2f' width='%.2f' height='%.2f' fill='%s'/>",
            l + ix * cw, t + ph - (iy + 1) * ch, cw + 0.05, ch + 0.05, fill));
      }
    }
    sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#999'/>", l,
        t, pw, ph));
    for (int k = 0; k <= 4; k++) {
      double xv = x0 + (x1 - x0) * k / 4;
      double yv = y0 + (y1 - y0) * k / 4;
      sb.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>%s</text>", l + pw * k / 4.0,
          t + ph + 14, fmt(xv)));
      sb.append(String.format(Locale.ROOT, "<text x='%d' y='%.1f' text-anchor='end'>%s</text>", l - 4,
          t + ph - ph * k / 4.0 + 4, fmt(yv)));
    }
    axisLabels(sb, l + pw / 2, t + ph + 32, t + ph / 2, xLabel, yLabel);
    int bx = l + pw + 20;
    for (int k = 0; k < 50; k++) {
      sb.append(String.format(Locale.ROOT, "<rect x='%d' y='%.2f' width='14' height='%.2f' fill='%s'/>", bx,
          t + ph - (k + 1) * ph / 50.0, ph / 50.0 + 0.05, color(k / 49.0)));
    }
    sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d'>%s</text><text x='%d' y='%d'>%s</text>", bx + 18,
        t + 10, fmt(vmax), bx + 18, t + ph, fmt(vmin)));
    int legend = 0;
    for (Marker m : markers) {
      double px = l + (m.x() - x0) / (x1 - x0) * pw;
      double py = t + ph - (m.y() - y0) / (y1 - y0) * ph;
      sb.append(shape(m.shape(), px, py, m.color()));
      int ly = t + ph + 48 + 14 * legend;
      sb.append(shape(m.shape(), l + 10, ly - 4, m.color()));
      sb.append(String.format(Locale.ROOT, "<text x='%d' y='%d'>%s</text>", l + 22, ly, esc(m.label())));
      legend++;
    }
    return sb.append("</svg>").toString();
  }

  private static String shape(String shape, double x, double y, String color) {
    if (shape.equals("star")) {
      StringBuilder p = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        double r = i % 2 == 0 ? 8 : 3.5;
        double a = Math.PI / 2 + i * Math.PI / 5;
        p.append(String.format(Locale.ROOT, "%.1f,%.1f ", x + r * Math.cos(a), y - r * Math.sin(a)));
      }
      return "<polygon points='" + p + "' fill='" + color + "' stroke='white' stroke-width='0.8'/>";
    }
    if (shape.equals("triangle")) {
      return String.format(Locale.ROOT, "<polygon points='%.1f,%.1f %.1f,%.1f %.1f,%.1f' fill='%s' stroke='white' "
          + "stroke-width='0.8'/>", x, y - 7, x - 6, y + 5, x + 6, y + 5, color);
    }
    return String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='5' fill='%s' stroke='white'/>", x, y, color);
  }

  public static double[] indices(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i + 1;
    }
    return x;
  }
}
