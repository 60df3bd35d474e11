package io.loraspace.jobs.merge;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.report.Charts;
import java.util.ArrayList;
import java.util.List;

/**
 * The merge job's report.html, rendered from report.json: verdict, the theory's quantities, the assumptions as
 * measured, every rule's predicted beside measured margins, Theorem 3.2 per adapter, and the grid (a heatmap of the
 * union margin with α* and the grid's best point for two adapters; union margin against distance from α* otherwise).
 */
final class MergeHtml {
  private MergeHtml() {}

  private static String num(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode() ? "–" : Charts.fmt(n.asDouble());
  }

  private static String vector(JsonNode a) {
    if (a == null || a.isNull() || a.isMissingNode()) {
      return "undefined";
    }
    List<String> v = new ArrayList<>();
    a.forEach(x -> v.add(num(x)));
    return "(" + String.join(", ", v) + ")";
  }

  private static void evaluationRow(StringBuilder b, String label, JsonNode e, List<String> datasets) {
    b.append("<tr><td>").append(Charts.esc(label)).append("</td><td>").append(vector(e.get("alpha"))).append("</td>");
    for (String d : datasets) {
      b.append("<td>").append(num(e.path("predicted").path("margins").get(d))).append("</td><td>")
          .append(num(e.path("measured").path("margins").get(d))).append("</td>");
    }
    b.append("<td>").append(num(e.path("predicted").get("unionMargin"))).append("</td><td><b>")
        .append(num(e.path("measured").get("unionMargin"))).append("</b></td><td>")
        .append(num(e.path("measured").get("unionAccuracy"))).append("</td></tr>");
  }

  private static void evaluationHeader(StringBuilder b, String first, List<String> datasets) {
    b.append("<table><tr><th>").append(first).append("</th><th>α</th>");
    for (String d : datasets) {
      b.append("<th>").append(Charts.esc(d)).append(" predicted</th><th>").append(Charts.esc(d))
          .append(" measured</th>");
    }
    b.append("<th>union predicted</th><th>union measured</th><th>union accuracy</th></tr>");
  }

  static String html(JsonNode r) {
    List<String> datasets = MergeReport.names(r.path("datasets"));
    StringBuilder b = new StringBuilder("<!DOCTYPE html><html><head><meta charset='utf-8'><title>loraspace merge"
        + "</title><style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;margin:8px 0}"
        + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
        + "td:first-child{text-align:left}.bad{color:#b00}</style></head><body>");
    JsonNode head = r.path("head");
    b.append("<h1>loraspace merge</h1><p>head <code>").append(Charts.esc(head.path("tensor").asText()))
        .append("</code> ").append(head.path("shape")).append(" ").append(head.path("dtype").asText())
        .append(" of <code>").append(Charts.esc(head.path("checkpoint").asText())).append("</code>; ")
        .append(r.path("adapters").size()).append(" adapters; samples");
    for (JsonNode d : r.path("datasets")) {
      b.append(" ").append(Charts.esc(d.path("name").asText())).append(" ").append(d.path("samples").asLong());
    }
    b.append(".</p>");
    if (head.has("bias")) {
      b.append("<p>Bias ").append(Charts.esc(head.path("bias").asText())).append(".</p>");
    }
    b.append("<p><b>").append(Charts.esc(r.path("verdict").asText())).append("</b></p>");

    JsonNode t = r.path("theory");
    b.append("<h2>Theory (Theorem 3.3)</h2><p>ρ_pre = ‖W_pre‖_F = ").append(num(t.get("rhoPre")))
        .append(", γ_pre = ").append(num(t.get("gammaPre"))).append(", optimal union margin ")
        .append(num(t.get("optimalUnionMargin"))).append("</p>");
    if (!t.path("defined").asBoolean()) {
      b.append("<p class='bad'>α* is undefined: ").append(Charts.esc(t.path("undefinedReason").asText()))
          .append("</p>");
    }
    b.append("<table><tr><th>adapter</th><th>scale s</th><th>rank</th><th>Θ_i = ‖s B A‖_F</th><th>γ_i</th>"
        + "<th>α*_i</th></tr>");
    for (int i = 0; i < r.path("adapters").size(); i++) {
      JsonNode a = r.path("adapters").get(i);
      b.append("<tr><td>").append(Charts.esc(a.path("path").asText())).append("</td><td>")
          .append(num(a.get("scaling"))).append(a.path("useRslora").asBoolean() ? " (rslora)" : "")
          .append("</td><td>").append(a.path("rank").asInt()).append("</td><td>").append(num(t.path("theta").get(i)))
          .append("</td><td>").append(num(t.path("gamma").get(i))).append("</td><td>")
          .append(num(t.path("optimalAlpha").get(i))).append("</td></tr>");
    }
    b.append("</table>");

    b.append("<h2>Assumptions, as measured</h2><table><tr><th>assumption</th><th>quantity</th><th>measured</th>"
        + "<th>tolerance</th><th>holds</th><th>detail</th></tr>");
    for (JsonNode c : r.path("assumptions")) {
      boolean ok = c.path("holds").asBoolean();
      b.append("<tr").append(ok ? "" : " class='bad'").append("><td>").append(Charts.esc(c.path("assumption")
          .asText())).append("</td><td>").append(Charts.esc(c.path("quantity").asText())).append("</td><td>")
          .append(num(c.get("measured"))).append("</td><td>").append(num(c.get("tolerance"))).append("</td><td>")
          .append(ok ? "yes" : "no").append("</td><td style='text-align:left'>")
          .append(Charts.esc(c.path("detail").asText())).append("</td></tr>");
    }
    b.append("</table>");

    b.append("<h2>Coefficients: predicted beside measured normalized margins</h2>");
    evaluationHeader(b, "rule", datasets);
    for (JsonNode rule : r.path("rules")) {
      if (rule.get("alpha").isNull()) {
        b.append("<tr><td>").append(rule.path("rule").asText()).append("</td><td colspan='")
            .append(2 * datasets.size() + 4).append("' style='text-align:left'>")
            .append(Charts.esc(rule.path("reason").asText())).append("</td></tr>");
      } else {
        evaluationRow(b, rule.path("rule").asText(), rule, datasets);
      }
    }
    b.append("</table><p>Margins are normalized, C(W; D)/‖W‖_F, against all rows of the head; accuracy counts "
        + "samples with a positive margin.</p>");

    b.append("<h2>Single adapters (Theorem 3.2)</h2>");
    evaluationHeader(b, "point", datasets);
    for (JsonNode s : r.path("singleTask")) {
      evaluationRow(b, s.path("point").asText(), s, datasets);
    }
    b.append("</table><p>Each row's union is D_pre and the adapter's task; the other tasks' columns are empty.</p>");

    JsonNode g = r.path("grid");
    b.append("<h2>Grid (").append(g.path("design").asText()).append(", ").append(g.path("points").asInt())
        .append(" points in (").append(num(g.get("lo"))).append(", ").append(num(g.get("hi")))
        .append("]^N)</h2><p>best union margin ").append(num(g.path("best").path("measured").get("unionMargin")))
        .append(" at α = ").append(vector(g.path("best").get("alpha"))).append(" (accuracy ")
        .append(num(g.path("best").path("measured").get("unionAccuracy"))).append(")</p>");
    b.append(gridChart(r));
    JsonNode m = r.path("merged");
    b.append("<h2>Merged outputs</h2><p>coefficients = ").append(Charts.esc(m.path("coefficients").asText()))
        .append(", α = ").append(vector(m.get("alpha"))).append(": ");
    if (m.has("head")) {
      b.append("<code>").append(m.path("head").asText()).append("</code>, <code>").append(m.path("adapter").asText())
          .append("</code>");
    } else {
      b.append("<span class='bad'>").append(Charts.esc(m.path("reason").asText())).append("</span>");
    }
    return b.append("</p></body></html>\n").toString();
  }

  private static String gridChart(JsonNode r) {
    JsonNode g = r.path("grid");
    JsonNode alpha = g.path("alpha");
    JsonNode union = g.path("unionMargin");
    JsonNode opt = r.path("theory").path("optimalAlpha");
    int n = r.path("adapters").size();
    if (n == 2 && g.path("design").asText().equals("lattice")) {
      int size = g.path("size").asInt();
      double[] axis = new double[size];
      for (int j = 0; j < size; j++) {
        axis[j] = alpha.get(j).get(1).asDouble();
      }
      double[] v = new double[size * size];
      for (int p = 0; p < alpha.size(); p++) {
        int i0 = p / size;
        int i1 = p % size;
        v[i1 * size + i0] = union.get(p).isNull() ? Double.NaN : union.get(p).asDouble();
      }
      List<Charts.Marker> marks = new ArrayList<>();
      if (opt.isArray()) {
        marks.add(new Charts.Marker(opt.get(0).asDouble(), opt.get(1).asDouble(), "predicted α* (Theorem 3.3)",
            "star", "#d62728"));
      }
      JsonNode best = g.path("best").path("alpha");
      marks.add(new Charts.Marker(best.get(0).asDouble(), best.get(1).asDouble(), "grid best (union margin)",
          "triangle", "#111111"));
      return Charts.heatmap("Measured union margin over the grid", "α_1", "α_2", axis, axis, v, marks);
    }
    double[] x = new double[alpha.size()];
    double[] y = new double[alpha.size()];
    for (int p = 0; p < alpha.size(); p++) {
      double dist = 0;
      double ref = 0;
      for (int i = 0; i < n; i++) {
        double a = alpha.get(p).get(i).asDouble();
        double o = opt.isArray() ? opt.get(i).asDouble() : 0;
        dist += (a - o) * (a - o);
        ref += o * o;
      }
      x[p] = opt.isArray() ? Math.sqrt(dist / ref) : p;
      y[p] = union.get(p).isNull() ? Double.NaN : union.get(p).asDouble();
    }
    return Charts.plot("Measured union margin of every grid point", opt.isArray() ? "‖α − α*‖ / ‖α*‖"
        : "grid point", "union margin", List.of(new Charts.Series("grid", x, y, false)), false);
  }
}
