package io.loraspace.jobs.correct;

import io.loraspace.common.io.Dtype;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import java.util.List;

/**
 * {@code loraspace correct}: post-hoc correction of trained LoRA adapters toward the alignment displacement of a
 * base/aligned checkpoint pair, with CSULoRA and/or the SafeLoRA baseline (docs/correct.md).
 */
public final class CorrectJob implements Job {
  @Override
  public String name() {
    return "correct";
  }

  @Override
  public String summary() {
    return "CSULoRA (and SafeLoRA) correction of one adapter or a collection against base/aligned checkpoints";
  }

  @Override
  public String defaultOutput() {
    return "out/correct";
  }

  @Override
  public OptionSpec options() {
    List<String> names = CorrectMethods.names();
    return OptionSpec.builder()
        .option("adapters", OptionType.STRING, null, "One PEFT adapter directory, a parent directory (every "
            + "directory below it with adapter_config.json), or a manifest file (one directory per line); local, "
            + "hdfs:// or s3a://")
        .option("base", OptionType.STRING, null, "Base (pre-alignment) checkpoint: a directory with "
            + "model.safetensors(.index.json) or one .safetensors file, on a file system every executor mounts")
        .option("aligned", OptionType.STRING, null, "Safety-aligned checkpoint the adapters were trained on (same "
            + "form as base)")
        .option("methods", OptionType.STRING_LIST, "csulora", "Correction methods, one output directory each",
            v -> !((List<?>) v).isEmpty() && names.containsAll((List<?>) v), "a non-empty list from " + names)
        .option("target-modules", OptionType.STRING_LIST, "", "Regexes: only modules matching one are corrected, "
            + "the others are copied (default: every module of the adapters)")
        .choice("dtype", "F32", List.of("F32", "BF16", "F16", "F64"), "dtype of the written factors")
        .option("skip-corrupt", OptionType.BOOLEAN, "false", "Skip adapters whose config or safetensors header "
            + "cannot be read (listed in the manifest) instead of failing")
        .option("seed", OptionType.LONG, "1", "Seed of the randomized range finder")
        .build().plus(CorrectMethods.options());
  }

  static CorrectPlan.Settings settings(Options o) {
    CorrectPlan.Settings s = new CorrectPlan.Settings();
    s.adapters = o.requireString("adapters");
    s.base = o.requireString("base");
    s.aligned = o.requireString("aligned");
    s.methods = CorrectMethods.chosen(o);
    s.targetModules = o.getStringList("target-modules");
    s.dtype = Dtype.parse(o.getString("dtype"), "option 'dtype'");
    s.skipCorrupt = o.getBoolean("skip-corrupt");
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    CorrectPipeline.run(ctx, settings(ctx.options()), ctx.staging());
  }
}
