package io.loraspace.jobs.jobs;

import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.recycle.Reconstruct;
import java.util.List;

/** {@code loraspace reconstruct}: an adapter projected onto an EigenLoRAx basis, as a PEFT adapter directory. */
public final class ReconstructJob implements Job {
  @Override
  public String name() {
    return "reconstruct";
  }

  @Override
  public String summary() {
    return "project an adapter (of the collection, or a new one zero-shot) onto a recycle basis; write it as PEFT";
  }


  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("basis", OptionType.STRING, null, "Output directory of the recycle job (or its basis/ directory)")
        .option("adapter", OptionType.STRING, null, "PEFT adapter directory to project")
        .choice("dtype", "F32", List.of("F32", "BF16", "F16", "F64"), "dtype of the written factors")
        .build();
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    Reconstruct.run(ctx, ctx.options().requireString("basis"), ctx.options().requireString("adapter"),
        ctx.options().getString("dtype"), ctx.staging());
  }
}
