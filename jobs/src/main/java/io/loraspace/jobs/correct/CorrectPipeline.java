package io.loraspace.jobs.correct;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.correct.CorrectionMethod;
import io.loraspace.common.correct.ModuleCorrection;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.inputs.AdapterCollection;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.DataErrors;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The correct job's driver: plans (no Spark), runs one task per module (D and its subspaces formed once and shared by
 * every adapter and method), selects modules per (adapter, method) from the returned figures, runs one task per
 * (adapter, method) writing the PEFT adapter directory, then the report. The driver holds figures, never factors.
 */
final class CorrectPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(CorrectPipeline.class);

  private CorrectPipeline() {}

  /** Per (method, adapter index): the modules written corrected. */
  static final class Selection {
    final Map<String, Map<Integer, Set<String>>> selected = new LinkedHashMap<>();
    final Map<String, Map<Integer, Map<String, Double>>> figures = new LinkedHashMap<>();
  }

  static ObjectNode run(JobContext ctx, CorrectPlan.Settings s, Path outDir) throws Exception {
    long t0 = System.nanoTime();
    ctx.describe("correct: scan adapters and checkpoint headers");
    CorrectPlan plan = CorrectPlan.of(ctx.hadoopConf(), s, outDir.toString());
    ctx.manifest().input(s.adapters, "adapter collection").input(s.base, "base checkpoint")
        .input(s.aligned, "aligned checkpoint");
    List<AdapterCollection.Adapter> adapters = plan.collection.adapters;
    LOG.info("correct: {} adapters, {} modules, methods {}", adapters.size(), plan.tasks.size(),
        CorrectReport.names(s.methods));
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    JavaSparkContext jsc = ctx.jsc();
    DataErrors errors = ctx.dataErrors();

    ctx.describe("correct: " + plan.tasks.size() + " modules × " + adapters.size() + " adapters");
    List<CorrectTasks.ModuleResult> results = jsc.parallelize(plan.tasks, Math.max(1, plan.tasks.size()))
        .flatMap(t -> errors.guardOne(() -> CorrectTasks.runModule(conf, t))).collect();
    ctx.manifest().timing("modules", (System.nanoTime() - t0) / 1e9);

    Selection sel = new Selection();
    List<CorrectTasks.AdapterTask> writes = new ArrayList<>();
    for (CorrectionMethod m : s.methods) {
      Map<Integer, Set<String>> byAdapter = new LinkedHashMap<>();
      Map<Integer, Map<String, Double>> figures = new LinkedHashMap<>();
      for (int i = 0; i < adapters.size(); i++) {
        Map<String, ModuleCorrection> outcomes = CorrectTasks.outcomesOf(results, m.name(), i);
        Set<String> chosen = m.select(outcomes);
        byAdapter.put(i, chosen);
        figures.put(i, m.selectionFigures(outcomes));
        CorrectTasks.AdapterTask t = new CorrectTasks.AdapterTask();
        t.index = i;
        t.name = adapters.get(i).name;
        t.dir = adapters.get(i).dir;
        t.method = m.name();
        t.selected.putAll(CorrectTasks.workOf(results, m.name(), chosen));
        t.staging = outDir.toString();
        t.dtype = s.dtype;
        writes.add(t);
      }
      sel.selected.put(m.name(), byAdapter);
      sel.figures.put(m.name(), figures);
    }
    ctx.describe("correct: write " + writes.size() + " adapter directories");
    long w0 = System.nanoTime();
    List<Integer> replaced = jsc.parallelize(writes, Math.max(1, writes.size()))
        .flatMap(t -> errors.guardOne(() -> CorrectTasks.runAdapter(conf, t))).collect();
    ctx.manifest().timing("write", (System.nanoTime() - w0) / 1e9);
    FileSystem fs = outDir.getFileSystem(ctx.hadoopConf());
    fs.delete(new Path(outDir, "_work"), true);

    ObjectNode report = CorrectReport.summary(s, plan.collection, results, sel);
    try (OutputStream os = fs.create(new Path(outDir, "report.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }
    try (OutputStream os = fs.create(new Path(outDir, "report.html"), true)) {
      os.write(CorrectReport.html(report).getBytes(StandardCharsets.UTF_8));
    }
    long corrections = 0;
    int subspaces = 0;
    for (CorrectTasks.ModuleResult r : results) {
      corrections += (long) r.adapterIndex.size() * s.methods.size();
      subspaces += r.subspacesComputed;
    }
    ctx.manifest().count("adapters", adapters.size()).count("skipped", plan.collection.skipped.size())
        .count("modules", results.size()).count("moduleCorrections", corrections).count("subspaces", subspaces)
        .count("adapterDirectories", writes.size())
        .count("modulesReplaced", replaced.stream().mapToLong(Integer::longValue).sum() / 2);
    if (!plan.collection.skipped.isEmpty()) {
      ObjectNode sk = Manifest.json().createObjectNode();
      plan.collection.skipped.forEach(sk::put);
      ctx.manifest().section("skippedAdapters", sk);
    }
    ctx.manifest().timing("correct", (System.nanoTime() - t0) / 1e9);
    return report;
  }
}
