package io.loraspace.jobs.correct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.correct.CorrectionMethod;
import io.loraspace.jobs.inputs.AdapterCollection;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.report.Charts;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The correct job's report: {@code report.json} (per module: the shared subspace's figures; per method, adapter and
 * module: the method's figures and whether the module was written corrected) and {@code report.html} (tables and
 * inline SVG plots of every figure along the modules). Undefined figures (NaN) are written as null.
 */
final class CorrectReport {
  private CorrectReport() {}

  static List<String> names(List<CorrectionMethod> methods) {
    List<String> out = new ArrayList<>();
    methods.forEach(m -> out.add(m.name()));
    return out;
  }

  private static void put(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) {
      n.put(key, v);
    } else {
      n.putNull(key);
    }
  }

  static ObjectNode summary(CorrectPlan.Settings s, AdapterCollection c, List<CorrectTasks.ModuleResult> results,
      CorrectPipeline.Selection sel) {
    ObjectNode root = Manifest.json().createObjectNode();
    root.put("collection", s.adapters).put("base", s.base).put("aligned", s.aligned);
    ArrayNode methods = root.putArray("methods");
    s.methods.forEach(m -> methods.add(m.name()));
    root.put("adapters", c.adapters.size()).put("skipped", c.skipped.size());
    ObjectNode sk = root.putObject("skippedAdapters");
    c.skipped.forEach(sk::put);
    ArrayNode mods = root.putArray("modules");
    for (CorrectTasks.ModuleResult r : results) {
      ObjectNode m = mods.addObject();
      m.put("module", r.module).put("out", r.out).put("in", r.in).put("adapters", r.adapterIndex.size())
          .put("seconds", r.seconds).put("subspacesComputed", r.subspacesComputed);
      ObjectNode sub = m.putObject("subspace");
      r.subspace.forEach((method, figs) -> {
        if (!figs.isEmpty()) {
          ObjectNode f = sub.putObject(method);
          figs.forEach((k, v) -> put(f, k, v));
        }
      });
    }
    ObjectNode byMethod = root.putObject("results");
    for (CorrectionMethod method : s.methods) {
      ArrayNode list = byMethod.putArray(method.name());
      for (int i = 0; i < c.adapters.size(); i++) {
        AdapterCollection.Adapter a = c.adapters.get(i);
        Set<String> chosen = sel.selected.get(method.name()).get(i);
        ObjectNode an = list.addObject();
        an.put("adapter", a.name).put("dir", a.dir).put("output", method.name() + "/" + a.name)
            .put("selected", chosen.size());
        ObjectNode sf = an.putObject("selection");
        sel.figures.get(method.name()).get(i).forEach((k, v) -> put(sf, k, v));
        ArrayNode am = an.putArray("modules");
        for (CorrectTasks.ModuleResult r : results) {
          int pos = r.adapterIndex.indexOf(i);
          if (pos < 0) {
            continue;
          }
          ObjectNode mn = am.addObject();
          mn.put("module", r.module).put("selected", chosen.contains(r.module));
          r.figures.get(method.name()).get(pos).forEach((k, v) -> put(mn, k, v));
        }
      }
    }
    return root;
  }

  private static String cell(JsonNode v) {
    return v == null || v.isNull() || v.isMissingNode() ? "–"
        : v.isNumber() ? Charts.fmt(v.asDouble()) : Charts.esc(v.asText());
  }

  static String html(JsonNode r) {
    StringBuilder b = new StringBuilder();
    b.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>loraspace correct</title><style>")
        .append("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}")
        .append("td:first-child{text-align:left}</style></head><body>");
    b.append("<h1>Corrected adapters</h1><p>collection <code>").append(Charts.esc(r.path("collection").asText()))
        .append("</code> (").append(r.path("adapters").asInt()).append(" adapters, ").append(r.path("skipped").asInt())
        .append(" skipped)<br>base <code>").append(Charts.esc(r.path("base").asText())).append("</code>, aligned <code>")
        .append(Charts.esc(r.path("aligned").asText())).append("</code><br>methods: ")
        .append(Charts.esc(r.path("methods").toString())).append("</p>");
    subspaceTable(b, r);
    Iterator<Map.Entry<String, JsonNode>> it = r.path("results").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      methodSection(b, e.getKey(), e.getValue());
    }
    return b.append("</body></html>\n").toString();
  }

  private static void subspaceTable(StringBuilder b, JsonNode r) {
    Set<String> cols = new LinkedHashSet<>();
    for (JsonNode m : r.path("modules")) {
      m.path("subspace").fields().forEachRemaining(e -> e.getValue().fieldNames().forEachRemaining(cols::add));
    }
    if (cols.isEmpty()) {
      return;
    }
    b.append("<h2>Alignment subspaces of D = W_aligned − W_base (one per module, shared by all adapters)</h2>")
        .append("<table><tr><th>module</th><th>out×in</th><th>method</th>");
    cols.forEach(c -> b.append("<th>").append(Charts.esc(c)).append("</th>"));
    b.append("</tr>");
    for (JsonNode m : r.path("modules")) {
      m.path("subspace").fields().forEachRemaining(e -> {
        b.append("<tr><td>").append(Charts.esc(m.path("module").asText())).append("</td><td>")
            .append(m.path("out").asInt()).append("×").append(m.path("in").asInt()).append("</td><td>")
            .append(Charts.esc(e.getKey())).append("</td>");
        cols.forEach(c -> b.append("<td>").append(cell(e.getValue().get(c))).append("</td>"));
        b.append("</tr>");
      });
    }
    b.append("</table>");
  }

  private static void methodSection(StringBuilder b, String method, JsonNode adapters) {
    b.append("<h2>").append(Charts.esc(method)).append("</h2>");
    Set<String> figs = new LinkedHashSet<>();
    for (JsonNode a : adapters) {
      for (JsonNode m : a.path("modules")) {
        m.fieldNames().forEachRemaining(f -> {
          if (!f.equals("module") && !f.equals("selected")) {
            figs.add(f);
          }
        });
      }
    }
    b.append("<table><tr><th>adapter</th><th>output</th><th>modules written corrected</th>");
    figs.forEach(f -> b.append("<th>mean ").append(Charts.esc(f)).append("</th>"));
    b.append("</tr>");
    for (JsonNode a : adapters) {
      b.append("<tr><td>").append(Charts.esc(a.path("adapter").asText())).append("</td><td><code>")
          .append(Charts.esc(a.path("output").asText())).append("</code></td><td>").append(a.path("selected").asInt())
          .append(" of ").append(a.path("modules").size()).append("</td>");
      for (String f : figs) {
        double sum = 0;
        int n = 0;
        for (JsonNode m : a.path("modules")) {
          if (m.path(f).isNumber()) {
            sum += m.path(f).asDouble();
            n++;
          }
        }
        b.append("<td>").append(n == 0 ? "–" : Charts.fmt(sum / n)).append("</td>");
      }
      b.append("</tr>");
    }
    b.append("</table>");
    for (String f : figs) {
      List<Charts.Series> series = new ArrayList<>();
      for (JsonNode a : adapters) {
        if (series.size() == 10) {
          break;
        }
        JsonNode mods = a.path("modules");
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (int i = 0; i < mods.size(); i++) {
          if (mods.get(i).path(f).isNumber()) {
            x.add(i + 1.0);
            y.add(mods.get(i).path(f).asDouble());
          }
        }
        series.add(new Charts.Series(a.path("adapter").asText(), x.stream().mapToDouble(d -> d).toArray(),
            y.stream().mapToDouble(d -> d).toArray(), true));
      }
      b.append(Charts.plot(method + ": " + f + " per module (first 10 adapters)", "module (in report order)", f,
          series, false));
    }
  }
}
