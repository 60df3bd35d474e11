package io.loraspace.jobs.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.synth.CorpusSpec;
import io.loraspace.common.synth.SyntheticBase;
import io.loraspace.jobs.init.InitPipeline;
import io.loraspace.jobs.init.Method;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.stats.StatsPipeline;
import java.io.InputStream;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * {@code demo}: the pipeline end to end on example data the project generates, in one run: a synthetic corpus with
 * planted structure (two datasets, Llama-shaped sites) → the statistics store → a synthetic base checkpoint →
 * SC-LoRA adapters for a list of β (PEFT directories + residual weights + report). Prints where everything is and a table
 * of the statistics. Each stage's output is a sub-directory of {@code out}.
 */
public final class DemoJob implements Job {
  @Override
  public String name() {
    return "demo";
  }

  @Override
  public String summary() {
    return "end-to-end example: synthetic corpus -> statistics -> SC-LoRA adapters for several beta (out/demo)";
  }

  @Override
  public String defaultOutput() {
    return "out/demo";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .intOption("samples", 64, 1, 1 << 20, "Samples per dataset (datasets: plus, minus)")
        .intOption("layers", 2, 1, 64, "Decoder layers of the example model (2 sites each)")
        .intOption("hidden", 64, 2, 8192, "Hidden size of the example model")
        .option("gradients", OptionType.BOOLEAN, "true", "Generate output gradients and Fisher statistics too")
        .option("seed", OptionType.LONG, "0", "Seed of the example data")
        .option("betas", OptionType.DOUBLE_LIST, "0,0.5,0.9", "SC-LoRA β values")
        .intOption("r", 8, 1, 4096, "LoRA rank of the SC-LoRA adapters")
        .build();
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    var o = ctx.options();
    int hidden = o.getInt("hidden");
    List<CorpusSpec.Site> sites = SyntheticCorpusJob.llamaSites(o.getInt("layers"), hidden, Math.max(1, hidden / 2),
        hidden * 3 / 2);
    CorpusSpec spec = new CorpusSpec(sites, List.of("plus", "minus"), o.getInt("samples"), 16, 64, 32,
        Math.min(8, hidden), Math.min(2, hidden), 4.0, 0.8, 0.1, 0.0, o.getBoolean("gradients"), 4, 0.05,
        o.getLong("seed"));
    Path corpusDir = new Path(ctx.staging(), "corpus");
    SyntheticCorpusJob.generate(ctx, spec, Dtype.F32, 4, 64L << 20, corpusDir);

    StatsPipeline.Settings s = new StatsPipeline.Settings();
    s.inputs = List.of(corpusDir.toString());
    s.datasets = List.of();
    s.sitePatterns = List.of();
    s.modulePatterns = List.of();
    s.gradients = "auto";
    s.maxTaskMemory = 1L << 30;
    s.policy = NonFinitePolicy.FAIL;
    s.sampleBatch = 64;
    s.reducePartitions = 0;
    StatsPipeline.run(ctx, s, new Path(ctx.staging(), "stats"));

    Path baseDir = new Path(ctx.staging(), "base");
    if (!"file".equals(baseDir.toUri().getScheme()) && baseDir.toUri().getScheme() != null) {
      throw new ArgumentException("demo: the example base checkpoint must be written to a local directory; "
          + "option 'out' is " + ctx.output());
    }
    SyntheticBase.write(spec, o.getLong("seed"), Dtype.F32, 256L << 10, java.nio.file.Path.of(baseDir.toUri().getPath()));

    InitPipeline.Settings init = new InitPipeline.Settings();
    init.stats = new Path(ctx.staging(), "stats").toString();
    init.base = baseDir.toString();
    // Adapters name the base where it will be after the commit, not the staging path.
    Path finalBase = new Path(ctx.output(), "base");
    String scheme = finalBase.toUri().getScheme();
    init.baseModelName = scheme == null || scheme.equals("file") ? finalBase.toUri().getPath() : finalBase.toString();
    init.r = o.getInt("r");
    init.loraAlpha = o.getInt("r");
    init.betas = o.getDoubleList("betas");
    init.methods = List.of(Method.SC_LORA);
    JsonNode initSummary = InitPipeline.run(ctx, init, new Path(ctx.staging(), "init"));

    JsonNode store;
    try (InputStream in = ctx.outputFileSystem().open(new Path(ctx.staging(), "stats/store.json"))) {
      store = Manifest.json().readTree(in);
    }
    StringBuilder table = new StringBuilder();
    table.append(String.format("%n%-8s %-30s %6s %8s %8s%n", "dataset", "site", "dim", "tokens", "samples"));
    for (JsonNode n : store.get("sites")) {
      table.append(String.format("%-8s %-30s %6d %8d %8d%n", n.get("dataset").asText(), n.get("site").asText(),
          n.get("dim").asInt(), n.get("tokenCount").asLong(), n.get("sampleCount").asLong()));
    }
    table.append(String.format("%n%-8s %-34s %5s %5s %8s%n", "dataset", "module (gradient statistics)", "out", "in",
        "samples"));
    for (JsonNode n : store.get("modules")) {
      table.append(String.format("%-8s %-34s %5d %5d %8d%n", n.get("dataset").asText(), n.get("module").asText(),
          n.get("out").asInt(), n.get("in").asInt(), n.get("sampleCount").asLong()));
    }
    table.append(String.format("%nSC-LoRA (r = %d): mean over %d modules of the output energy inside the adapter's "
        + "subspace%n%-22s %6s %12s %12s %14s%n", init.r, initSummary.path("variants").path(0).path("modules").size(),
        "variant", "beta", "captured D+", "captured D-", "mean R(S)"));
    for (JsonNode v : initSummary.path("variants")) {
      double reward = 0;
      for (JsonNode m : v.path("modules")) {
        reward += m.path("reward").asDouble();
      }
      table.append(String.format("%-22s %6s %12.4f %12.4f %14.5g%n", v.path("tag").asText(), v.path("beta").asText(),
          v.path("meanCapturedPlus").asDouble(), v.path("meanCapturedMinus").asDouble(),
          reward / Math.max(1, v.path("modules").size())));
    }
    System.out.print(table);
    System.out.println("\ncorpus:           " + ctx.output() + "/corpus (Parquet, docs/data-contract.md)");
    System.out.println("statistics store: " + ctx.output() + "/stats (store.json + safetensors per key)");
    System.out.println("base checkpoint:  " + ctx.output() + "/base (synthetic, sharded safetensors)");
    for (JsonNode v : initSummary.path("variants")) {
      System.out.println("adapter:          " + ctx.output() + "/init/" + v.path("adapter").asText() + "  (+ residual: "
          + ctx.output() + "/init/" + v.path("residual").asText() + ")");
    }
    System.out.println("report:           " + ctx.output() + "/init/report.html");
  }
}
