package io.loraspace.jobs.merge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.synth.SyntheticMergeProblem;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.output.Manifest;
import java.io.OutputStream;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code loraspace synth-merge}: a head, N adapters on it and labelled feature Parquet with the geometry seed 002
 * assumes, or with chosen violations ({@link SyntheticMergeProblem}); input for {@code merge}, its tests and demos.
 * Layout: {@code head/model.safetensors}, {@code adapters/task-<i>/}, {@code data/pre/}, {@code data/task-<i>/}
 * ({@code files} Parquet files each), {@code synth.json} (the parameters). Runs on the driver, no Spark.
 */
public final class SyntheticMergeJob implements Job {
  @Override
  public String name() {
    return "synth-merge";
  }

  @Override
  public String summary() {
    return "synthetic head, adapters and labelled feature Parquet with the merge theory's geometry (or violations)";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .intOption("classes", 6, 2, 1 << 16, "K: classes of the head (rows)")
        .intOption("tasks", 2, 1, 64, "N: fine-tuning tasks, one adapter each")
        .intOption("task-classes", 3, 2, 1 << 16, "K̄: classes per task (≤ classes)")
        .intOption("extra-dims", 2, 0, 1 << 16, "Dimensions of each block beyond its classes (noise directions)")
        .intOption("padding", 0, 0, 1 << 20, "Feature dimensions no dataset uses")
        .intOption("samples-per-class", 20, 1, 1 << 24, "Samples per class and dataset")
        .option("noise", OptionType.DOUBLE, "0.3", "Gaussian noise around the class prototype (inside the block)")
        .option("overlap", OptionType.DOUBLE, "0", "ε: task features get ε of a random pre-training direction "
            + "(0: orthogonal tasks, the theory's assumption)")
        .intOption("flip-pre", 0, 0, Integer.MAX_VALUE, "Pre-training samples given the next class's label "
            + "(misclassified by the head: γ_pre < 0)")
        .option("rho", OptionType.DOUBLE, "4", "‖W_pre‖_F")
        .option("theta", OptionType.DOUBLE, "2", "Θ_1 = ‖ΔW_1‖_F; Θ_i = theta·(1 + (i−1)/2)")
        .intOption("extra-rank", 1, 0, 1 << 10, "Adapter rank beyond its task's classes")
        .option("lora-alpha", OptionType.DOUBLE, "8", "lora_alpha of every adapter (rslora on even-numbered ones)")
        .intOption("files", 2, 1, 1 << 16, "Parquet files per dataset")
        .choice("head-dtype", "F32", List.of("F32", "BF16", "F16", "F64"), "dtype of the head and adapters")
        .choice("feature-type", "double", List.of("double", "float"), "Element type of the feature vectors")
        .option("head", OptionType.STRING, "classifier.weight", "Name of the head tensor")
        .option("seed", OptionType.LONG, "1", "Seed")
        .build();
  }

  static SyntheticMergeProblem.Spec spec(Options o) {
    SyntheticMergeProblem.Spec s = new SyntheticMergeProblem.Spec();
    s.classes = o.getInt("classes");
    s.tasks = o.getInt("tasks");
    s.taskClasses = o.getInt("task-classes");
    s.extraDims = o.getInt("extra-dims");
    s.padding = o.getInt("padding");
    s.samplesPerClass = o.getInt("samples-per-class");
    s.noise = o.getDouble("noise");
    s.overlap = o.getDouble("overlap");
    s.flipPre = o.getInt("flip-pre");
    s.rho = o.getDouble("rho");
    s.theta = o.getDouble("theta");
    s.extraRank = o.getInt("extra-rank");
    s.loraAlpha = o.getDouble("lora-alpha");
    s.seed = o.getLong("seed");
    s.validate();
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    Options o = ctx.options();
    SyntheticMergeProblem problem = new SyntheticMergeProblem(spec(o));
    String head = o.requireString("head");
    String module = head.endsWith(".weight") ? head.substring(0, head.length() - ".weight".length()) : head;
    Dtype dtype = Dtype.valueOf(o.getString("head-dtype"));
    boolean doubles = o.getString("feature-type").equals("double");
    int files = o.getInt("files");
    FileSystem fs = ctx.outputFileSystem();
    Path out = ctx.staging();
    try (OutputStream os = fs.create(new Path(out, "head/model.safetensors"), true)) {
      new SafetensorsWriter().metadata("format", "pt").addMatrix(module + ".weight", dtype, problem.head())
          .writeTo(os);
    }
    int d = problem.spec().dim();
    for (int t = 0; t <= problem.spec().tasks; t++) {
      String name = t == 0 ? "pre" : "task-" + t;
      if (t > 0) {
        LoraAdapter a = problem.adapter(t - 1, module);
        Path dir = new Path(out, "adapters/" + name);
        try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.CONFIG), true)) {
          os.write(a.config().toJson());
        }
        try (OutputStream os = fs.create(new Path(dir, AdapterDirectory.WEIGHTS), true)) {
          new SafetensorsWriter().metadata("format", "pt")
              .addMatrix(AdapterDirectory.key(module, 'A'), dtype, a.factors(module).a())
              .addMatrix(AdapterDirectory.key(module, 'B'), dtype, a.factors(module).b()).writeTo(os);
        }
      }
      SyntheticMergeProblem.Samples data = problem.dataset(t);
      int n = data.size();
      for (int f = 0; f < files; f++) {
        Path file = new Path(out, String.format("data/%s/part-%05d.parquet", name, f));
        try (FeatureParquet.Writer w = new FeatureParquet.Writer(ctx.hadoopConf(), file, "features", "label",
            doubles)) {
          // samples are dealt round-robin so every file holds every class
          for (int s = f; s < n; s += files) {
            w.write(data.features(), s * d, d, data.labels()[s]);
          }
        }
      }
      ctx.manifest().count("samples." + name, n);
    }
    ObjectNode info = Manifest.json().createObjectNode();
    info.put("format", "loraspace-synth-merge").put("version", 1).put("head", module + ".weight").put("dim", d);
    o.asText().forEach(info::put);
    try (OutputStream os = fs.create(new Path(out, "synth.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(info));
    }
  }
}
