package io.loraspace.jobs.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.merge.CoefficientRule;
import io.loraspace.common.merge.CoefficientRules;
import io.loraspace.common.merge.MergeTheory;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.output.Manifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * The merge job's {@code report.json} (format {@code loraspace-merge-report} v1, docs/merge.md "Report") and the
 * summary of it in the manifest. Non-finite numbers are written as null; a quantity the theory does not define
 * (α* when a margin is ≤ 0) is null with the reason beside it. The HTML rendering is {@link MergeHtml}.
 */
final class MergeReport {
  static final String FORMAT = "loraspace-merge-report";
  static final int VERSION = 1;

  private MergeReport() {}

  static void put(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) {
      n.put(key, v);
    } else {
      n.putNull(key);
    }
  }

  static ArrayNode array(ObjectNode n, String key, double[] v) {
    ArrayNode a = n.putArray(key);
    for (double x : v) {
      if (Double.isFinite(x)) {
        a.add(x);
      } else {
        a.addNull();
      }
    }
    return a;
  }

  private static ObjectNode evaluation(ObjectNode n, MergePipeline.Result r, MergeEvaluation e) {
    array(n, "alpha", e.alpha);
    put(n, "norm", e.norm);
    ObjectNode m = n.putObject("measured");
    ObjectNode p = n.putObject("predicted");
    ObjectNode mm = m.putObject("margins");
    ObjectNode acc = m.putObject("accuracy");
    ObjectNode worst = m.putObject("worstSample");
    ObjectNode pm = p.putObject("margins");
    for (int u = 0; u < e.union.length; u++) {
      String name = r.inputs.datasets.get(e.union[u]).name();
      put(mm, name, e.margin[u]);
      put(acc, name, e.accuracy[u]);
      put(pm, name, e.predicted[u]);
      worst.put(name, MergePipeline.sample(r, e.worst[u], e.margin[u] * e.norm));
    }
    put(m, "unionMargin", e.unionMargin);
    put(m, "unionAccuracy", e.unionAccuracy);
    put(p, "unionMargin", e.predictedUnion);
    put(n, "maxPredictionError", e.maxPredictionError());
    return n;
  }

  static ObjectNode json(MergePipeline.Result r) {
    MergeInputs in = r.inputs;
    MergeTheory t = r.theory;
    ObjectNode root = Manifest.json().createObjectNode();
    root.put("format", FORMAT).put("version", VERSION);
    ObjectNode head = root.putObject("head");
    head.put("checkpoint", r.settings.checkpoint).put("tensor", in.headTensor).put("module", in.module)
        .put("dtype", in.headDtype.name());
    head.putArray("shape").add(in.head.rows()).add(in.head.cols());
    if (in.biasIgnored) {
      head.put("bias", "ignored: the checkpoint has " + in.module + ".bias, the theory's head has none; margins use "
          + "W x only");
    }
    ArrayNode ads = root.putArray("adapters");
    for (int i = 0; i < in.adapters.size(); i++) {
      ObjectNode a = ads.addObject();
      a.put("path", r.settings.adapters.get(i)).put("rank", in.adapters.get(i).factors(in.module).rank())
          .put("scaling", in.adapters.get(i).config().scaling(in.module))
          .put("useRslora", in.adapters.get(i).config().useRslora()).put("dataset", "task-" + (i + 1));
    }
    ArrayNode ds = root.putArray("datasets");
    for (int d = 0; d < in.datasets.size(); d++) {
      MergeInputs.Dataset x = in.datasets.get(d);
      ds.addObject().put("name", x.name()).put("location", x.location()).put("files", x.files().size())
          .put("samples", r.samples[d]);
    }
    ObjectNode th = root.putObject("theory");
    th.put("defined", t.defined());
    if (!t.defined()) {
      th.put("undefinedReason", t.undefinedReason());
    }
    put(th, "rhoPre", t.rho());
    put(th, "gammaPre", t.gammaPre());
    double[] gamma = new double[t.tasks()];
    double[] theta = new double[t.tasks()];
    for (int i = 0; i < t.tasks(); i++) {
      gamma[i] = t.gamma(i);
      theta[i] = t.theta(i);
    }
    array(th, "gamma", gamma);
    array(th, "theta", theta);
    if (t.defined()) {
      array(th, "optimalAlpha", t.optimalAlpha());
    } else {
      th.putNull("optimalAlpha");
    }
    put(th, "optimalUnionMargin", t.optimalUnionMargin());
    ArrayNode checks = root.putArray("assumptions");
    boolean hold = true;
    for (MergeChecks.Check c : r.checks) {
      ObjectNode n = checks.addObject().put("assumption", c.assumption()).put("quantity", c.quantity());
      put(n, "measured", c.measured());
      put(n, "tolerance", c.tolerance());
      n.put("holds", c.holds()).put("detail", c.detail());
      hold &= c.holds();
    }
    root.put("assumptionsHold", hold);
    root.put("verdict", verdict(r, hold));
    ArrayNode rules = root.putArray("rules");
    for (CoefficientRule rule : CoefficientRules.all()) {
      ObjectNode n = rules.addObject().put("rule", rule.name()).put("description", rule.description());
      MergeEvaluation e = r.rules.stream().filter(x -> x.name.equals(rule.name())).findFirst().orElse(null);
      if (e == null) {
        n.putNull("alpha");
        n.put("reason", r.ruleReasons.get(rule.name()));
      } else {
        evaluation(n, r, e);
      }
    }
    ArrayNode single = root.putArray("singleTask");
    for (MergeEvaluation e : r.singles) {
      int i = e.union[1] - 1;
      ObjectNode n = single.addObject().put("point", e.name).put("adapter", i + 1);
      put(n, "theta", t.theta(i));
      put(n, "bestTheta", t.singleTaskBestTheta(i));
      put(n, "scaleToBest", t.singleTaskBestTheta(i) / t.theta(i));
      put(n, "bestUnionMargin", t.singleTaskBestUnion(i));
      evaluation(n, r, e);
    }
    ObjectNode grid = root.putObject("grid");
    grid.put("design", r.settings.grid.name()).put("size", r.settings.gridSize).put("points", r.grid.size());
    put(grid, "lo", r.gridLo);
    put(grid, "hi", r.gridHi);
    evaluation(grid.putObject("best").put("index", r.gridBest), r, r.grid.get(r.gridBest));
    ArrayNode alpha = grid.putArray("alpha");
    ArrayNode margins = grid.putArray("margins");
    double[] union = new double[r.grid.size()];
    double[] unionAcc = new double[r.grid.size()];
    for (int g = 0; g < r.grid.size(); g++) {
      MergeEvaluation e = r.grid.get(g);
      ArrayNode a = alpha.addArray();
      for (double v : e.alpha) {
        a.add(v);
      }
      ArrayNode m = margins.addArray();
      for (double v : e.margin) {
        m.add(v);
      }
      union[g] = e.unionMargin;
      unionAcc[g] = e.unionAccuracy;
    }
    array(grid, "unionMargin", union);
    array(grid, "unionAccuracy", unionAcc);
    ObjectNode merged = root.putObject("merged");
    merged.put("coefficients", r.settings.coefficients);
    if (r.chosen.defined()) {
      array(merged, "alpha", r.chosen.alpha());
      merged.put("head", MergeOutputs.HEAD).put("adapter", MergeOutputs.ADAPTER);
    } else {
      merged.putNull("alpha");
      merged.put("reason", r.chosen.reason() + "; no merged head or adapter was written (choose another rule with "
          + "'coefficients', e.g. grid-best)");
    }
    return root;
  }

  /** One paragraph: whether the coefficients can be trusted, with the numbers that decide it. */
  static String verdict(MergePipeline.Result r, boolean hold) {
    MergeTheory t = r.theory;
    MergeEvaluation best = r.grid.get(r.gridBest);
    if (!t.defined()) {
      return "α* is undefined: " + t.undefinedReason() + ". The grid's best union margin is "
          + MergeChecks.fmt(best.unionMargin) + " (accuracy " + MergeChecks.fmt(best.unionAccuracy) + ").";
    }
    MergeEvaluation opt = r.rules.stream().filter(x -> x.name.equals("optimal")).findFirst().orElseThrow();
    String numbers = "At α* the measured union margin is " + MergeChecks.fmt(opt.unionMargin) + " (predicted "
        + MergeChecks.fmt(opt.predictedUnion) + ", largest per-dataset difference "
        + MergeChecks.fmt(opt.maxPredictionError()) + "); the grid's best is " + MergeChecks.fmt(best.unionMargin)
        + (best.unionMargin > opt.unionMargin ? ", larger" : ", not larger") + ".";
    if (hold) {
      return "The theory's assumptions hold within tolerance: the coefficients are the union-margin optimum. "
          + numbers;
    }
    StringBuilder failed = new StringBuilder();
    for (MergeChecks.Check c : r.checks) {
      if (!c.holds()) {
        failed.append(failed.length() == 0 ? "" : "; ").append(c.assumption()).append(" (").append(c.quantity())
            .append(" = ").append(MergeChecks.fmt(c.measured())).append(" > ").append(MergeChecks.fmt(c.tolerance()))
            .append(")");
      }
    }
    return "Assumptions fail: " + failed + ". The predicted margins are not guaranteed; compare them with the "
        + "measured ones and the grid. " + numbers;
  }

  static void write(JobContext ctx, MergePipeline.Result r) throws IOException {
    ObjectNode report = json(r);
    try (OutputStream os = ctx.outputFileSystem().create(new Path(ctx.staging(), "report.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }
    try (OutputStream os = ctx.outputFileSystem().create(new Path(ctx.staging(), "report.html"), true)) {
      os.write(MergeHtml.html(report).getBytes(StandardCharsets.UTF_8));
    }
    ObjectNode summary = Manifest.json().createObjectNode();
    summary.set("theory", report.get("theory"));
    summary.put("assumptionsHold", report.get("assumptionsHold").asBoolean());
    summary.set("merged", report.get("merged"));
    ctx.manifest().section("merge", summary);
  }

  static List<String> names(JsonNode datasets) {
    List<String> out = new java.util.ArrayList<>();
    datasets.forEach(d -> out.add(d.path("name").asText()));
    return out;
  }
}
