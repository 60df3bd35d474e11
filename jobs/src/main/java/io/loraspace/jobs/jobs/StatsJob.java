package io.loraspace.jobs.jobs;

import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.stats.StatsPipeline;
import java.util.List;

/**
 * {@code stats}: streams activation and gradient blocks (data contract v1, any Hadoop path) into per-(dataset, site)
 * covariance statistics and per-(dataset, module) Fisher statistics, merged on the executors and written as a
 * statistics store (docs/stats-store.md). See {@link StatsPipeline} for the data flow.
 */
public final class StatsJob implements Job {
  @Override
  public String name() {
    return "stats";
  }

  @Override
  public String summary() {
    return "activation/gradient Parquet -> per-site covariance and per-module Fisher statistics store";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("input", OptionType.STRING_LIST, null, "Parquet files, directories or globs (local, hdfs://, s3a://)")
        .option("datasets", OptionType.STRING_LIST, "", "Datasets to include (empty: all)")
        .option("sites", OptionType.STRING_LIST, "", "Regexes; sites whose full name matches one are included "
            + "(empty: all)")
        .option("modules", OptionType.STRING_LIST, "", "Regexes for modules whose gradient statistics are computed "
            + "(empty: all with gradients)")
        .choice("gradients", "auto", List.of("auto", "on", "off"),
            "Gradient statistics: auto = when the input has gradients; on = fail if none; off = skip")
        .longOption("max-task-memory", 1L << 30, 1024, Long.MAX_VALUE,
            "Bytes of accumulators one task may hold; keys that do not fit together are done in separate passes")
        .choice("non-finite", "fail", List.of("fail", "skip"),
            "NaN/Inf in a block: fail naming file, row and site; or skip the token and count it")
        .option("allow-mixed-dtypes", OptionType.BOOLEAN, "false", "Accept a (dataset, site) whose blocks have "
            + "different dtypes (by default this fails, naming the rarest dtype's file and row: likely mislabelled)")
        .intOption("sample-batch", 64, 1, 1 << 16, "Per-sample sums batched per rank-k update of the sample Gram")
        .intOption("reduce-partitions", 0, 0, 1 << 20, "Partitions of the merge shuffle (0: number of keys, at most "
            + "4 per core)")
        .build();
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    Options o = ctx.options();
    StatsPipeline.Settings s = new StatsPipeline.Settings();
    s.inputs = o.getStringList("input");
    s.datasets = o.getStringList("datasets");
    s.sitePatterns = o.getStringList("sites");
    s.modulePatterns = o.getStringList("modules");
    s.gradients = o.getString("gradients");
    s.maxTaskMemory = o.getLong("max-task-memory");
    s.policy = o.getString("non-finite").equals("skip") ? NonFinitePolicy.SKIP : NonFinitePolicy.FAIL;
    s.sampleBatch = o.getInt("sample-batch");
    s.reducePartitions = o.getInt("reduce-partitions");
    s.allowMixedDtypes = o.getBoolean("allow-mixed-dtypes");
    StatsPipeline.run(ctx, s);
  }
}
