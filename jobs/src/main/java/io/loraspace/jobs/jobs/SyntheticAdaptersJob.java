package io.loraspace.jobs.jobs;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.synth.SyntheticAdapters;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

/** {@code loraspace synth-adapters}: a collection of real PEFT adapter directories with planted structure. */
public final class SyntheticAdaptersJob implements Job {
  @Override
  public String name() {
    return "synth-adapters";
  }

  @Override
  public String summary() {
    return "write a synthetic collection of PEFT adapters (planted shared subspace, task parts, noise)";
  }

  @Override
  public String defaultOutput() {
    return "out/adapters";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .intOption("adapters", 20, 1, 1 << 20, "Number of adapters")
        .intOption("layers", 2, 1, 1024, "Decoder layers (Lots of LoRAs: 32)")
        .intOption("hidden", 64, 2, 1 << 16, "Hidden size (Lots of LoRAs: 4096)")
        .intOption("kv-dim", 16, 2, 1 << 16, "Output size of k_proj and v_proj (Lots of LoRAs: 1024)")
        .option("modules", OptionType.STRING_LIST, "q_proj,k_proj,v_proj", "Module types (q_proj, k_proj, v_proj)")
        .intOption("r", 16, 1, 1 << 12, "Largest rank (Lots of LoRAs: 16)")
        .intOption("r-min", 0, 0, 1 << 12, "Smallest rank (0: all adapters have rank r)")
        .option("alpha", OptionType.DOUBLE, "32", "lora_alpha (Lots of LoRAs: 32)")
        .option("vary-alpha", OptionType.BOOLEAN, "false", "Draw each adapter's alpha from [alpha/2, alpha]")
        .intOption("shared-rank", 8, 1, 1 << 12, "Dimension of the planted shared subspace per (module, factor)")
        .option("task-scale", OptionType.DOUBLE, "0.3", "Scale of each adapter's task-specific direction")
        .option("noise", OptionType.DOUBLE, "0.05", "Isotropic noise variance per vector")
        .choice("dtype", "F32", List.of("F32", "BF16", "F16"), "dtype of the factors")
        .option("base-model", OptionType.STRING, "synthetic-llama", "base_model_name_or_path")
        .option("seed", OptionType.LONG, "1", "Seed")
        .build();
  }

  static SyntheticAdapters.Spec spec(Options o) {
    SyntheticAdapters.Spec s = new SyntheticAdapters.Spec();
    s.adapters = o.getInt("adapters");
    s.layers = o.getInt("layers");
    s.hidden = o.getInt("hidden");
    s.kvDim = o.getInt("kv-dim");
    s.moduleTypes = o.getStringList("modules");
    s.r = o.getInt("r");
    s.rMin = o.getInt("r-min") == 0 ? s.r : o.getInt("r-min");
    s.alpha = o.getDouble("alpha");
    s.varyAlpha = o.getBoolean("vary-alpha");
    s.sharedRank = o.getInt("shared-rank");
    s.taskScale = o.getDouble("task-scale");
    s.noise = o.getDouble("noise");
    s.baseModel = o.getString("base-model");
    s.seed = o.getLong("seed");
    s.validate();
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    SyntheticAdapters.Spec s = spec(ctx.options());
    Dtype dtype = Dtype.parse(ctx.options().getString("dtype"), "option 'dtype'");
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    String staging = ctx.staging().toString();
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < s.adapters; i++) {
      idx.add(i);
    }
    ctx.describe("synth-adapters: " + s.adapters + " adapters × " + s.modules().size() + " modules");
    JavaSparkContext jsc = ctx.jsc();
    int parts = Math.max(1, Math.min(s.adapters, jsc.defaultParallelism() * 4));
    long bytes = jsc.parallelize(idx, parts).map(i -> {
      LoraAdapter a = SyntheticAdapters.adapter(s, i);
      Path dir = new Path(staging, String.format("adapter-%04d", i));
      FileSystem fs = dir.getFileSystem(conf.get());
      try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.CONFIG), true)) {
        os.write(a.config().toJson());
      }
      SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
      for (Map.Entry<String, LoraAdapter.Factors> e : a.modules().entrySet()) {
        w.addMatrix(AdapterDirectory.key(e.getKey(), 'A'), dtype, e.getValue().a());
        w.addMatrix(AdapterDirectory.key(e.getKey(), 'B'), dtype, e.getValue().b());
      }
      try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.WEIGHTS), true)) {
        w.writeTo(os);
      }
      return w.dataBytes();
    }).reduce(Long::sum);
    ctx.manifest().count("adapters", s.adapters).count("bytes", bytes);
  }
}
