package io.loraspace.jobs.init;

import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.jobs.InitJob;
import io.loraspace.jobs.jobs.StatsJob;
import io.loraspace.jobs.stats.StatsPipeline;
import org.apache.hadoop.fs.Path;

/**
 * {@code prepare}: {@code stats} then {@code init} in one run, one JVM and one Spark session, for runs small enough
 * that a second JVM and Spark start-up matter (docs/operations.md). Takes every option of {@code stats} (activation
 * Parquet, or a token corpus run through the model) and of {@code init} except {@code stats}, which is this run's own
 * store. One output: {@code stats/} (the store) and {@code init/} (adapters, residuals, reports) under {@code out},
 * with one {@code manifest.json} and {@code _SUCCESS}. The adapter configs name {@code base} as given.
 */
public final class PrepareJob implements Job {
  @Override
  public String name() {
    return "prepare";
  }

  @Override
  public String summary() {
    return "stats then init in one run and one Spark session: out/stats (the store) and out/init (the adapters)";
  }

  @Override
  public OptionSpec options() {
    return new StatsJob().options().plus(new InitJob().options().without("stats"));
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    Path storeDir = new Path(ctx.staging(), "stats");
    // Both option sets are validated before Spark starts.
    StatsPipeline.Settings stats = StatsJob.settings(ctx);
    InitPipeline.Settings init = InitJob.settings(ctx.options(), storeDir.toString());
    InitPipeline.checkBase(init);
    long t0 = System.nanoTime();
    StatsPipeline.run(ctx, stats, storeDir);
    ctx.manifest().timing("stats", (System.nanoTime() - t0) / 1e9);
    InitPipeline.run(ctx, init, new Path(ctx.staging(), "init"));
  }
}
