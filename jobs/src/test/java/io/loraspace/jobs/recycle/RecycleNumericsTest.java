package io.loraspace.jobs.recycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Qr;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * recycle with leave-one-out on collections whose gap at K is tiny or zero: the job finishes, every fold is verified
 * against exact recomputation, the solver and gap of every fold are in the errors table, and small gaps are flagged.
 */
class RecycleNumericsTest {
  @TempDir static Path dir;
  private static final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private static int cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    err.reset();
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String errText() {
    return err.toString(StandardCharsets.UTF_8);
  }

  /** Runs recycle verifying every fold; returns the report after checking the verification. */
  private static JsonNode recycleVerified(Path collection, String name, int folds, String... extra) throws Exception {
    Path out = dir.resolve(name);
    List<String> args = new ArrayList<>(List.of("recycle", "--set", "adapters=" + collection, "--set", "out=" + out,
        "--set", "verify-folds=1000", "--set", "folds-per-task=7"));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    assertThat(cli(args.toArray(new String[0]))).as(errText()).isZero();
    JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
    JsonNode v = report.get("verification");
    assertThat(v.get("folds").asInt()).isEqualTo(folds);
    assertThat(v.get("maxRelativeHeldOutErrorDifference").asDouble()).isLessThan(1e-8);
    return report;
  }

  /** The errors table's rows (a session of its own: the job stops the one it used). */
  private static List<Row> errors(String name) {
    SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
    try {
      return spark.read().parquet(dir.resolve(name).resolve("errors").toString()).collectAsList();
    } finally {
      spark.stop();
    }
  }

  private static long count(List<Row> rows, java.util.function.Predicate<Row> p) {
    return rows.stream().filter(p).count();
  }

  private static Object get(Row r, String column) {
    return r.get(r.fieldIndex(column));
  }

  @Test
  void kInsideTheNoiseBulkFinishesAndFlagsTheFolds() throws Exception {
    // No task directions: past the 5 planted ones the spectrum is isotropic noise; K = 10 cuts through it.
    Path coll = dir.resolve("bulk");
    assertThat(cli("synth-adapters", "--set", "out=" + coll, "--set", "adapters=16", "--set", "layers=1",
        "--set", "hidden=64", "--set", "kv-dim=16", "--set", "r=8", "--set", "r-min=4", "--set", "vary-alpha=true",
        "--set", "shared-rank=5", "--set", "task-scale=0", "--set", "noise=0.05", "--set", "seed=4")).as(errText())
        .isZero();
    JsonNode report = recycleVerified(coll, "recycle-bulk", 3 * 2 * 16, "components=10");
    assertThat(report.get("foldSolvers").get("dense-small-gap").asInt()).isPositive();
    assertThat(report.get("foldsWithSmallGap").asInt()).isPositive();
    for (JsonNode m : report.get("modules")) {
      assertThat(m.get("smallGap").asBoolean()).as(m.toString()).isTrue();
      assertThat(m.get("gapAtK").asDouble()).isBetween(0.0, 1e-3);
      assertThat(m.get("solver").asText()).isEqualTo("dsyevr-full");
    }
    List<Row> e = errors("recycle-bulk");
    assertThat(e).hasSize(3 * 2 * 16);
    assertThat(count(e, r -> get(r, "fold_solver") == null || get(r, "fold_gap_at_k") == null)).isZero();
    assertThat(count(e, r -> (Boolean) get(r, "fold_small_gap") == ((Double) get(r, "fold_gap_at_k") < 1e-3)))
        .isEqualTo(e.size());
    assertThat(count(e, r -> "dense-small-gap".equals(get(r, "fold_solver")))).isPositive();
    String html = Files.readString(dir.resolve("recycle-bulk").resolve("report.html"));
    assertThat(html).contains("below gap-tolerance = 0.0010").contains("folds (the errors table's fold_small_gap");
  }

  /**
   * Exactly repeated eigenvalues at K: adapter i holds ±2·q_{i mod 3} and ±u_i (orthonormal directions), in A and in
   * s·B, stored in F64. The scatter's eigenvalues are 32 (×3) and 2 (×12); K = 5 cuts the 12-fold cluster in the full
   * data and in every fold, yet every held-out error is 1/√5 (u_i is orthogonal to the fold's whole range).
   */
  @Test
  void exactlyRepeatedEigenvaluesAtK() throws Exception {
    Path coll = dir.resolve("repeated");
    Random rnd = new Random(5);
    List<DenseMatrix> a = repeated(40, 12, rnd);
    List<DenseMatrix> b = repeated(40, 12, rnd);
    for (int i = 0; i < 12; i++) {
      write(coll.resolve(String.format("adapter-%02d", i)), a.get(i).transpose(), b.get(i), 4);
    }
    JsonNode report = recycleVerified(coll, "recycle-repeated", 2 * 12, "components=5");
    assertThat(report.get("foldsWithSmallGap").asInt()).isEqualTo(2 * 12);
    assertThat(report.get("foldSolvers").has("lanczos")).isFalse();
    for (Row r : errors("recycle-repeated")) {
      assertThat(r.getDouble(r.fieldIndex("held_out_error"))).isCloseTo(1 / Math.sqrt(5),
          org.assertj.core.data.Offset.offset(1e-12));
    }
  }

  @Test
  void kEqualToTheVectorsOfAFoldMinusOne() throws Exception {
    // Ranks 2, 3, 4: without the rank-4 adapter a centred fold has 5 vectors, hence 4 components.
    Path coll = dir.resolve("small");
    Random rnd = new Random(11);
    for (int r = 2; r <= 4; r++) {
      write(coll.resolve("adapter-r" + r), gaussian(r, 24, rnd), gaussian(16, r, rnd), r);
    }
    recycleVerified(coll, "recycle-k4", 3 * 2, "components=4");
    assertThat(count(errors("recycle-k4"), r -> !get(r, "fold_components").equals(4))).isZero();
    // K = 5: that fold keeps its 4 components, the others 5, and the job still finishes.
    recycleVerified(coll, "recycle-k5", 3 * 2, "components=5");
    List<Row> e = errors("recycle-k5");
    assertThat(count(e, r -> r.getString(0).endsWith("adapter-r4") && get(r, "fold_components").equals(4)))
        .isEqualTo(2);
    assertThat(count(e, r -> !r.getString(0).endsWith("adapter-r4") && get(r, "fold_components").equals(5)))
        .isEqualTo(4);
  }

  private static List<DenseMatrix> repeated(int d, int adapters, Random rnd) {
    DenseMatrix q = Qr.of(gaussian(d, 3 + adapters, rnd)).q();
    List<DenseMatrix> out = new ArrayList<>();
    for (int i = 0; i < adapters; i++) {
      DenseMatrix v = DenseMatrix.zeros(d, 4);
      for (int r = 0; r < d; r++) {
        double shared = 2 * q.get(r, i % 3);
        double own = q.get(r, 3 + i);
        v.set(r, 0, shared);
        v.set(r, 1, -shared);
        v.set(r, 2, own);
        v.set(r, 3, -own);
      }
      out.add(v);
    }
    return out;
  }

  private static DenseMatrix gaussian(int rows, int cols, Random rnd) {
    DenseMatrix m = DenseMatrix.zeros(rows, cols);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextGaussian();
    }
    return m;
  }

  /** One adapter of rank r with α = r (scaling 1) on q_proj of one layer, in F64. */
  private static void write(Path to, DenseMatrix a, DenseMatrix b, int r) {
    AdapterConfig config = AdapterConfig.lora(r, r, List.of("q_proj"));
    config.setBaseModelNameOrPath("synthetic");
    LoraAdapter adapter = new LoraAdapter(config);
    adapter.put("model.layers.0.self_attn.q_proj", a, b);
    AdapterDirectory.write(to, adapter, Dtype.F64, false);
  }
}
