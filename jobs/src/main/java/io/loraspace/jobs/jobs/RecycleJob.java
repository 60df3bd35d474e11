package io.loraspace.jobs.jobs;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.recycle.RecyclePipeline;

/** {@code loraspace recycle}: EigenLoRAx PCA over a collection of adapters, with leave-one-out (docs/recycle.md). */
public final class RecycleJob implements Job {
  @Override
  public String name() {
    return "recycle";
  }

  @Override
  public String summary() {
    return "EigenLoRAx principal components over hundreds of PEFT adapters, loadings, leave-one-out held-out errors";
  }

  @Override
  public String defaultOutput() {
    return "out/recycle";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("adapters", OptionType.STRING, null, "The collection: a parent directory (every directory below it "
            + "with adapter_config.json), a manifest file (one adapter directory per line), local, hdfs:// or s3a://")
        .intOption("components", 0, 0, 1 << 20, "K per (module, factor); 0: the smallest K reaching 'threshold'")
        .option("threshold", OptionType.DOUBLE, "0.9", "Explained-variance ratio that chooses K when components=0")
        .option("center", OptionType.BOOLEAN, "true", "Subtract the mean vector (false: the official code's "
            + "uncentred projection)")
        .intOption("pseudo-components", 0, 0, 1 << 16, "Pseudo-PCs appended to each basis (random, orthogonalised)")
        .option("leave-one-out", OptionType.BOOLEAN, "true", "Held-out reconstruction error of every adapter, by "
            + "exact downdates with warm-started eigensolves")
        .intOption("folds-per-task", 25, 1, 1 << 20, "Leave-one-out folds per Spark task")
        .intOption("verify-folds", 0, 0, 1 << 20, "Per module, this many random folds are also recomputed from "
            + "scratch; the report gives the largest difference and the per-fold speed-up")
        .option("gap-tolerance", OptionType.DOUBLE, "1e-3", "Modules and folds whose relative gap at K, "
            + "(λ_K − λ_{K+1}) / λ_1, is below this are flagged in the report and errors table (docs/recycle.md)")
        .option("skip-corrupt", OptionType.BOOLEAN, "false", "Skip adapters whose config or safetensors header "
            + "cannot be read (listed in the manifest) instead of failing")
        .option("modules", OptionType.STRING_LIST, "", "Regexes: only modules matching one (default: all)")
        .option("seed", OptionType.LONG, "1", "Seed of pseudo-PCs and of the verified folds")
        .build();
  }

  public static RecyclePipeline.Settings settings(Options o) {
    RecyclePipeline.Settings s = new RecyclePipeline.Settings();
    s.adapters = o.requireString("adapters");
    s.pca.components = o.getInt("components");
    s.pca.threshold = o.getDouble("threshold");
    s.pca.center = o.getBoolean("center");
    s.pca.pseudo = o.getInt("pseudo-components");
    s.pca.seed = o.getLong("seed");
    s.leaveOneOut = o.getBoolean("leave-one-out");
    s.foldsPerTask = o.getInt("folds-per-task");
    s.verifyFolds = o.getInt("verify-folds");
    s.skipCorrupt = o.getBoolean("skip-corrupt");
    s.gapTolerance = o.getDouble("gap-tolerance");
    if (!(s.gapTolerance >= 0 && s.gapTolerance < 1)) {
      throw new ArgumentException("Option 'gap-tolerance' is " + s.gapTolerance + ", expected a value in [0, 1)");
    }
    s.modules = o.getStringList("modules");
    s.seed = o.getLong("seed");
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    RecyclePipeline.run(ctx, settings(ctx.options()), ctx.staging());
  }
}
