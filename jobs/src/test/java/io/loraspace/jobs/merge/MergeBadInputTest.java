package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.jobs.spark.SparkSessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input fails with one line naming the file, row, tensor or value; what can be seen without Spark (shapes,
 * footers, the first row) fails before a SparkSession exists, what only the data shows (a NaN deep in a file) fails
 * in the pass, at once.
 */
class MergeBadInputTest {
  @TempDir static Path dir;
  private static Path data;
  private static final int CLASSES = 6;
  private static int dim;

  @BeforeAll
  static void makeData() {
    data = MergeTesting.synth(dir.resolve("data"), "files=1", "samples-per-class=4");
    try (SafetensorsFile f = SafetensorsFile.open(data.resolve("head/model.safetensors"))) {
      dim = (int) f.info("classifier.weight").dim(1);
    }
  }

  private static MergeTesting.Run run(boolean sparkExpected, Path out, String... overrides) {
    List<String> args = MergeTesting.mergeArgs(data, 2, out);
    args.addAll(MergeTesting.sets(overrides));
    args.addAll(MergeTesting.sets("spark.master=local[1]"));
    int before = SparkSessions.created();
    MergeTesting.Run r = MergeTesting.cli(args.toArray(new String[0]));
    if (!sparkExpected) {
      assertThat(SparkSessions.created()).as("Spark sessions started").isEqualTo(before);
    }
    assertThat(out).doesNotExist();
    return r;
  }

  /** A task dataset of one file whose row {@code bad} has {@code label} and features {@code x} of length n. */
  private static Path dataset(String name, int rows, int bad, int label, double[] badX) throws IOException {
    Path d = dir.resolve(name);
    Files.createDirectories(d);
    try (FeatureParquet.Writer w = new FeatureParquet.Writer(new Configuration(),
        new org.apache.hadoop.fs.Path(d.resolve("part-0.parquet").toString()), "features", "label", true)) {
      for (int s = 0; s < rows; s++) {
        double[] x = s == bad ? badX : new double[dim];
        if (s != bad) {
          x[0] = 1;
        }
        w.write(x, 0, x.length, s == bad ? label : 0);
      }
    }
    return d;
  }

  private static String task2() {
    return data.resolve("data/task-2").toString();
  }

  @Test
  void labelOutsideTheHeadsClassesFailsBeforeSparkNamingTheFile() throws Exception {
    double[] x = new double[dim];
    Path d = dataset("label", 5, 3, CLASSES, x);
    MergeTesting.Run r = run(false, dir.resolve("o1"), "task-data=" + d + "," + task2());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace merge: error: " + d.resolve("part-0.parquet").toUri().toString()
        .replace("file:///", "file:/") + ": label 6 in rows 0..4 is outside the head's classes [0, 6)\n");
  }

  @Test
  void featureDimensionOtherThanTheHeadsInputFailsBeforeSpark() throws Exception {
    Path d = dataset("dim", 2, 0, 1, new double[dim + 1]);
    MergeTesting.Run r = run(false, dir.resolve("o2"), "task-data=" + d + "," + task2());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace merge: error: ").endsWith("part-0.parquet row 0: feature vector has "
        + (dim + 1) + " values, but the head's input dimension is " + dim + "\n");
  }

  @Test
  void adapterNotOnTheHeadFailsBeforeSparkNamingItsModules() {
    Path a = dir.resolve("other-adapter");
    LoraAdapter orig = AdapterDirectory.read(data.resolve("adapters/task-1"));
    LoraAdapter moved = new LoraAdapter(io.loraspace.common.io.peft.AdapterConfig.lora(orig.config().r(), 8,
        List.of("score"))).put("score", orig.factors("classifier").a(), orig.factors("classifier").b());
    AdapterDirectory.write(a, moved, Dtype.F32, false);
    MergeTesting.Run r = run(false, dir.resolve("o3"), "adapters=" + a + "," + data.resolve("adapters/task-2"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace merge: error: Adapter '" + a + "' has no module 'classifier' (its "
        + "modules: [score]): it is not an adapter on the head 'classifier.weight'\n");
  }

  @Test
  void adapterOfAnotherShapeFailsBeforeSpark() {
    Path a = dir.resolve("narrow-adapter");
    DenseMatrix aa = DenseMatrix.zeros(2, dim - 1);
    DenseMatrix bb = DenseMatrix.zeros(CLASSES, 2);
    AdapterDirectory.write(a, new LoraAdapter(io.loraspace.common.io.peft.AdapterConfig.lora(2, 4,
        List.of("classifier"))).put("classifier", aa, bb), Dtype.F32, false);
    MergeTesting.Run r = run(false, dir.resolve("o4"), "adapters=" + a + "," + data.resolve("adapters/task-2"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace merge: error: Adapter '" + a + "' module 'classifier' has lora_A [2, "
        + (dim - 1) + "] and lora_B [6, 2], but the head 'classifier.weight' has shape [6, " + dim + "]\n");
  }

  @Test
  void emptyDatasetFailsBeforeSpark() throws Exception {
    Path d = dataset("empty", 0, -1, 0, null);
    MergeTesting.Run r = run(false, dir.resolve("o5"), "task-data=" + task2() + "," + d);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace merge: error: Dataset 'task-2' (" + d + ") is empty: its 1 Parquet "
        + "file(s) hold no rows\n");
  }

  @Test
  void missingHeadTensorFailsBeforeSparkNamingTheCheckpoint() {
    MergeTesting.Run r = run(false, dir.resolve("o6"), "head=score.weight");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace merge: error: Checkpoint '" + data.resolve("head") + "' has no tensor "
        + "'score.weight' (it has 1 tensors, e.g. [classifier.weight])\n");
  }

  @Test
  void nonFiniteFeatureFailsInThePassNamingFileRowAndFeature() throws Exception {
    double[] x = new double[dim];
    x[2] = Double.NaN;
    Path d = dataset("nan", 5, 3, 0, x);
    MergeTesting.Run r = run(true, dir.resolve("o7"), "task-data=" + d + "," + task2());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace merge: error: ").endsWith("part-0.parquet row 3: feature 2 is NaN "
        + "(non-finite)\n");
  }
}
