package io.loraspace.jobs.jobs;

import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.jobs.stats.StatsPipeline;
import io.loraspace.jobs.stats.model.ModelSpec;
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
    return "activation/gradient Parquet, or a token corpus run through the model on the executors -> per-site "
        + "covariance and per-module Fisher statistics store";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("input", OptionType.STRING_LIST, "", "Activation/gradient Parquet files, directories or globs (local, "
            + "hdfs://, s3a://); or use tokens + model")
        .option("tokens", OptionType.STRING_LIST, "", "Model mode: token-corpus Parquet files, directories or globs "
            + "(docs/data-contract.md); the executors run 'model' on them and only statistics leave the workers")
        .option("model", OptionType.STRING, "", "Model mode: HF checkpoint directory (local/NFS path, or hdfs://, "
            + "s3a:// fetched once per executor)")
        .option("model-modules", OptionType.STRING, "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
            "Model mode: nn.Linear modules captured, as PEFT target_modules (comma list, or re:REGEX)")
        .option("python", OptionType.STRING, "python3", "Model mode: Python interpreter on the executors, with torch "
            + "and transformers (e.g. ./venv/bin/python with spark.archives=venv.tar.gz#venv)")
        .choice("model-dtype", "float32", List.of("float32", "bfloat16", "float64"), "Model mode: dtype the model "
            + "runs in (statistics are float64 in any case)")
        .choice("device", "auto", List.of("auto", "cpu"), "Model mode: auto = the GPU Spark assigned to the task "
            + "(spark.task.resource.gpu.amount), else the CPU; cpu = always the CPU")
        .intOption("samples-per-task", 32, 1, 1 << 24, "Model mode: consecutive samples of one token file per Spark "
            + "task (the unit of parallelism and retry; changing it regroups the sums, at the last bit)")
        .intOption("worker-timeout", 600, 1, 86_400, "Model mode: seconds one worker request (model load, one "
            + "sample, the final flush) may take before the worker is killed and the task retried")
        .option("datasets", OptionType.STRING_LIST, "", "Datasets to include (empty: all)")
        .option("sites", OptionType.STRING_LIST, "", "Regexes; sites whose full name matches one are included "
            + "(empty: all)")
        .option("modules", OptionType.STRING_LIST, "", "Regexes for modules whose gradient statistics are computed "
            + "(empty: all with gradients)")
        .choice("gradients", "auto", List.of("auto", "on", "off"),
            "Gradient statistics: auto = when the input has gradients (model mode: off); on = fail if none (model "
                + "mode: back-propagate each sample's LM loss); off = skip")
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
    StatsPipeline.run(ctx, settings(ctx));
  }

  /** The pipeline settings of validated options; a model directory the driver can see is checked here. */
  public static StatsPipeline.Settings settings(JobContext ctx) throws java.io.IOException {
    Options o = ctx.options();
    StatsPipeline.Settings s = new StatsPipeline.Settings();
    s.inputs = o.getStringList("input");
    s.tokens = o.getStringList("tokens");
    String model = o.getString("model");
    if (s.inputs.isEmpty() == s.tokens.isEmpty()) {
      throw new ArgumentException(s.inputs.isEmpty() ? "Give option 'input' (activation Parquet) or options 'tokens' "
          + "and 'model' (model mode)" : "Options 'input' and 'tokens' exclude each other: activation Parquet or a "
          + "token corpus, not both");
    }
    if (!s.tokens.isEmpty()) {
      if (model.isEmpty()) {
        throw new ArgumentException("Option 'tokens' needs option 'model' (the HF checkpoint directory to run)");
      }
      checkModelDirectory(ctx, model);
      ModelSpec m = new ModelSpec();
      m.model = model;
      m.python = o.getString("python");
      m.dtype = o.getString("model-dtype");
      m.device = o.getString("device");
      m.modules = o.getString("model-modules");
      m.timeoutSeconds = o.getInt("worker-timeout");
      m.nonFinite = o.getString("non-finite");
      s.model = m;
      s.samplesPerTask = o.getInt("samples-per-task");
    } else if (!model.isEmpty()) {
      throw new ArgumentException("Option 'model' is for model mode (option 'tokens'); activation input was given");
    }
    s.datasets = o.getStringList("datasets");
    s.sitePatterns = o.getStringList("sites");
    s.modulePatterns = o.getStringList("modules");
    s.gradients = o.getString("gradients");
    s.maxTaskMemory = o.getLong("max-task-memory");
    s.policy = o.getString("non-finite").equals("skip") ? NonFinitePolicy.SKIP : NonFinitePolicy.FAIL;
    s.sampleBatch = o.getInt("sample-batch");
    s.reducePartitions = o.getInt("reduce-partitions");
    s.allowMixedDtypes = o.getBoolean("allow-mixed-dtypes");
    return s;
  }

  /** A model directory the driver can see is checked before Spark starts (executors must see the same path). */
  private static void checkModelDirectory(JobContext ctx, String model) throws java.io.IOException {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(model);
    org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(ctx.hadoopConf());
    if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
      throw new ArgumentException("Option 'model' is '" + model + "', which is not a directory");
    }
    if (!fs.exists(new org.apache.hadoop.fs.Path(p, "config.json"))) {
      throw new ArgumentException("Option 'model' is '" + model + "', which has no config.json (an HF checkpoint "
          + "directory is expected: config.json plus model.safetensors or its shards)");
    }
  }
}
