package io.loraspace.jobs.merge;

import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.merge.MergedAdapter;
import io.loraspace.jobs.cli.JobContext;
import java.io.IOException;
import java.io.OutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The merged outputs of the chosen rule, under the run's staging directory: {@code merged/head.safetensors} (the head
 * tensor, same name and dtype, {@code W_pre + Σ α_i s_i B_i A_i}) and {@code merged/adapter/} (a PEFT adapter on the
 * head's module applying {@code Σ α_i s_i B_i A_i}: ranks concatenated, α and the scales folded into B, stored in the
 * head's dtype). When the rule has no coefficients (α* undefined) nothing is written and the report says why.
 */
final class MergeOutputs {
  static final String HEAD = "merged/head.safetensors";
  static final String ADAPTER = "merged/adapter";

  private static final Logger LOG = LoggerFactory.getLogger(MergeOutputs.class);

  private MergeOutputs() {}

  static void write(JobContext ctx, MergePipeline.Result r) throws IOException {
    if (!r.chosen.defined()) {
      LOG.warn("merge: no merged head written for coefficients={}: {}", r.settings.coefficients, r.chosen.reason());
      return;
    }
    MergeInputs in = r.inputs;
    double[] c = new double[r.chosen.alpha().length + 1];
    c[0] = 1;
    System.arraycopy(r.chosen.alpha(), 0, c, 1, r.chosen.alpha().length);
    double[] merged = in.decomposition.merged(c);
    FileSystem fs = ctx.outputFileSystem();
    SafetensorsWriter head = new SafetensorsWriter().metadata("format", "pt")
        .metadata("loraspace.merge.coefficients", r.settings.coefficients)
        .add(in.headTensor, in.headDtype, new long[] {in.head.rows(), in.head.cols()}, merged);
    try (OutputStream os = fs.create(new Path(ctx.staging(), HEAD), true)) {
      head.writeTo(os);
    }
    LoraAdapter adapter = MergedAdapter.build(in.adapters, in.module, r.chosen.alpha());
    Path dir = new Path(ctx.staging(), ADAPTER);
    try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.CONFIG), true)) {
      os.write(adapter.config().toJson());
    }
    LoraAdapter.Factors f = adapter.factors(in.module);
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt")
        .addMatrix(AdapterDirectory.key(in.module, 'A'), in.headDtype, f.a())
        .addMatrix(AdapterDirectory.key(in.module, 'B'), in.headDtype, f.b());
    try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.WEIGHTS), true)) {
      w.writeTo(os);
    }
  }
}
