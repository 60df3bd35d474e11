package io.loraspace.jobs.recycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.Repo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recycle, reconstruct and synth-adapters jobs in local Spark: leave-one-out by downdate verified against exact
 * recomputation on every fold, K by threshold recovers the planted dimension, full-rank reconstruction is exact, the
 * tables are real Parquet, and bad input fails naming the adapter, module or value.
 */
class RecycleJobTest {
  @TempDir static Path dir;
  private static final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private static Path collection;

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

  private static Path synth(String name, String... extra) {
    Path out = dir.resolve(name);
    List<String> args = new ArrayList<>(List.of("synth-adapters", "--set", "out=" + out, "--set", "adapters=14",
        "--set", "layers=1", "--set", "hidden=24", "--set", "kv-dim=10", "--set", "r=4", "--set", "r-min=2",
        "--set", "vary-alpha=true", "--set", "shared-rank=5", "--set", "seed=9"));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    assertThat(cli(args.toArray(new String[0]))).as(errText()).isZero();
    return out;
  }

  @BeforeAll
  static void makeCollection() {
    collection = synth("adapters");
  }

  @Test
  void leaveOneOutEqualsRecomputationOnEveryFoldAndTablesAreParquet() throws Exception {
    Path out = dir.resolve("recycle-k");
    assertThat(cli("recycle", "--set", "adapters=" + collection, "--set", "out=" + out, "--set", "components=4",
        "--set", "verify-folds=14", "--set", "folds-per-task=5")).as(errText()).isZero();
    JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
    assertThat(report.get("adapters").asInt()).isEqualTo(14);
    JsonNode v = report.get("verification");
    // Every fold of every (module, factor): 3 modules × 2 factors × 14.
    assertThat(v.get("folds").asInt()).isEqualTo(3 * 2 * 14);
    assertThat(v.get("maxSinPrincipalAngle").asDouble()).isLessThan(1e-6);
    assertThat(v.get("maxRelativeHeldOutErrorDifference").asDouble()).isLessThan(1e-8);
    assertThat(report.get("heldOutErrors")).hasSize(3 * 2 * 14);
    // Where the folds' time goes: the phases are timed inside each fold; the fold time excludes the basis product,
    // which only verified folds compute (here all of them).
    JsonNode ph = report.get("leaveOneOutPhaseSeconds");
    double inFolds = ph.get("project").asDouble() + ph.get("solve").asDouble() + ph.get("error").asDouble();
    assertThat(ph.get("solve").asDouble()).isPositive();
    assertThat(ph.get("basis").asDouble()).isPositive();
    assertThat(inFolds).isLessThanOrEqualTo(report.get("leaveOneOutFoldSeconds").asDouble() * 1.0001 + 1e-6);
    assertThat(v.get("verifiedFoldPhaseSeconds").get("basis").asDouble()).isEqualTo(ph.get("basis").asDouble());
    assertThat(v.get("speedUpOverMeanFold").asDouble()).isPositive();
    assertThat(Files.readString(out.resolve("report.html"))).contains("<svg").contains("Held-out");
    JsonNode config = Manifest.json().readTree(out.resolve("basis/config.json").toFile());
    assertThat(config.get("modules")).hasSize(3);
    assertThat(out.resolve("_work")).doesNotExist();
    // The tasks' reads reach Spark's input metrics (progress lines, manifest): at least every adapter's tensor bytes.
    long tensorBytes = 0;
    for (int i = 0; i < 14; i++) {
      Path w = collection.resolve(String.format("adapter-%04d", i)).resolve("adapter_model.safetensors");
      byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(w), 8);
      long headerLength = java.nio.ByteBuffer.wrap(head).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
      tensorBytes += Files.size(w) - 8 - headerLength;
    }
    JsonNode counts = Manifest.json().readTree(out.resolve("manifest.json").toFile()).path("counts");
    assertThat(tensorBytes).isPositive();
    assertThat(counts.path("sparkBytesRead").asLong()).isGreaterThanOrEqualTo(tensorBytes);

    SparkSession spark = SparkSession.builder().master("local[1]").appName("read").getOrCreate();
    try {
      Dataset<Row> errors = spark.read().parquet(out.resolve("errors").toString());
      assertThat(errors.count()).isEqualTo(14 * 3 * 2);
      assertThat(errors.filter("held_out_error IS NULL").count()).isZero();
      assertThat(errors.filter("held_out_error < in_sample_error").count()).isZero();
      Dataset<Row> loadings = spark.read().parquet(out.resolve("loadings").toString());
      long vectors = 0;
      for (int i = 0; i < 14; i++) {
        LoraAdapter a = AdapterDirectory.read(collection.resolve(String.format("adapter-%04d", i)));
        vectors += a.config().r();
      }
      assertThat(loadings.count()).isEqualTo(vectors * 3 * 2);
      assertThat(loadings.first().getList(4)).hasSize(4);
    } finally {
      spark.stop();
    }
  }

  @Test
  void thresholdRecoversThePlantedDimension() throws Exception {
    Path clean = synth("adapters-clean", "task-scale=0", "noise=0.02", "adapters=20");
    Path out = dir.resolve("recycle-threshold");
    assertThat(cli("recycle", "--set", "adapters=" + clean, "--set", "out=" + out, "--set", "threshold=0.9",
        "--set", "leave-one-out=false")).as(errText()).isZero();
    JsonNode config = Manifest.json().readTree(out.resolve("basis/config.json").toFile());
    for (JsonNode m : config.get("modules")) {
      assertThat(m.get("A").get("principalComponents").asInt()).isEqualTo(5);
      assertThat(m.get("B").get("principalComponents").asInt()).isEqualTo(5);
    }
  }

  @Test
  void reconstructionAtFullRankIsExactAndZeroShotIsWritten() throws Exception {
    // Full rank for the smaller factor dimension (k/v B: dim 10); the 24-dim ones keep 10 of 24.
    Path out = dir.resolve("recycle-full");
    assertThat(cli("recycle", "--set", "adapters=" + collection, "--set", "out=" + out, "--set", "components=10",
        "--set", "leave-one-out=false", "--set", "center=false")).as(errText()).isZero();
    Path one = collection.resolve("adapter-0003");
    Path rec = dir.resolve("rec-0003");
    assertThat(cli("reconstruct", "--set", "basis=" + out, "--set", "adapter=" + one, "--set", "out=" + rec,
        "--set", "dtype=F64")).as(errText()).isZero();
    LoraAdapter orig = AdapterDirectory.read(one);
    LoraAdapter back = AdapterDirectory.read(rec);
    assertThat(back.config().r()).isEqualTo(orig.config().r());
    for (String m : orig.modules().keySet()) {
      if (m.endsWith("k_proj") || m.endsWith("v_proj")) {
        assertThat(Matrices.relativeFrobeniusDiff(back.factors(m).b(), orig.factors(m).b())).as(m)
            .isLessThan(1e-6); // F32 input, 10 of 10 dimensions
      }
    }
    JsonNode r = Manifest.json().readTree(rec.resolve("reconstruct.json").toFile());
    assertThat(r.get("modules")).hasSize(3);

    // A new adapter of the same family (index 20 of a larger collection with the same seed), projected zero-shot.
    Path bigger = synth("adapters-more", "adapters=21");
    Path rec2 = dir.resolve("rec-new");
    assertThat(cli("reconstruct", "--set", "basis=" + out, "--set", "adapter=" + bigger.resolve("adapter-0020"),
        "--set", "out=" + rec2)).as(errText()).isZero();
    JsonNode r2 = Manifest.json().readTree(rec2.resolve("reconstruct.json").toFile());
    assertThat(r2.get("maxDeltaWError").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void theReaderAcceptsARealPeftSavedAdapter() throws Exception {
    // Saved by HF PEFT (scripts/python/make_fixtures.py), committed with the foundation issue.
    Path fixture = Repo.root().resolve("common/src/test/resources/fixtures/peft_adapter");
    Path coll = dir.resolve("peft-collection");
    for (String name : List.of("a", "b", "c")) {
      Path d = coll.resolve(name);
      Files.createDirectories(d);
      for (String f : List.of(AdapterDirectory.CONFIG, AdapterDirectory.WEIGHTS)) {
        Files.copy(fixture.resolve(f), d.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path out = dir.resolve("recycle-peft");
    assertThat(cli("recycle", "--set", "adapters=" + coll, "--set", "out=" + out, "--set", "components=1"))
        .as(errText()).isZero();
    JsonNode config = Manifest.json().readTree(out.resolve("basis/config.json").toFile());
    assertThat(config.get("modules").size()).isGreaterThan(0);
  }

  private void assertFails(String expected, String... args) {
    Path out = dir.resolve("failed-" + Math.abs(String.join(" ", args).hashCode()));
    List<String> all = new ArrayList<>(List.of("recycle", "--set", "out=" + out));
    all.addAll(List.of(args));
    assertThat(cli(all.toArray(new String[0]))).as(errText()).isNotZero();
    assertThat(errText()).contains(expected);
    assertThat(out).as("no output after a failure").doesNotExist();
  }

  @Test
  void adaptersOfDifferentBaseShapes() throws Exception {
    Path mixed = dir.resolve("mixed");
    Files.createDirectories(mixed);
    Path other = synth("adapters-wide", "hidden=32", "adapters=2");
    copyDir(collection.resolve("adapter-0000"), mixed.resolve("x-narrow"));
    copyDir(other.resolve("adapter-0001"), mixed.resolve("y-wide"));
    assertFails("Adapters of different base shapes: module 'model.layers.0.self_attn.k_proj' is 24→10 (in→out) in ",
        "--set", "adapters=" + mixed);
    assertThat(errText()).contains("y-wide");
  }

  @Test
  void oneCorruptAdapterAmongManyIsNamedOrSkipped() throws Exception {
    Path coll = dir.resolve("with-corrupt");
    for (int i = 0; i < 14; i++) {
      String n = String.format("adapter-%04d", i);
      copyDir(collection.resolve(n), coll.resolve(n));
    }
    Path bad = coll.resolve("adapter-0007").resolve(AdapterDirectory.WEIGHTS);
    byte[] bytes = Files.readAllBytes(bad);
    Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length / 2)); // truncated download
    assertFails("Corrupt adapter ", "--set", "adapters=" + coll);
    assertThat(errText()).contains("adapter-0007").contains("skip-corrupt=true");
    Path out = dir.resolve("recycle-skip");
    assertThat(cli("recycle", "--set", "adapters=" + coll, "--set", "out=" + out, "--set", "skip-corrupt=true",
        "--set", "components=3")).as(errText()).isZero();
    JsonNode manifest = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(manifest.toString()).contains("adapter-0007").contains("data_offsets");
    assertThat(Manifest.json().readTree(out.resolve("report.json").toFile()).get("adapters").asInt()).isEqualTo(13);
  }

  @Test
  void pickleWeightsInTheCollectionAreNamedWithTheConversion() throws Exception {
    Path coll = dir.resolve("with-bin");
    for (int i = 0; i < 3; i++) {
      String n = String.format("adapter-%04d", i);
      copyDir(collection.resolve(n), coll.resolve(n));
    }
    Path binDir = coll.resolve("adapter-0001");
    Files.move(binDir.resolve(AdapterDirectory.WEIGHTS), binDir.resolve("adapter_model.bin"));
    assertFails("Corrupt adapter file:" + binDir + ": " + binDir + ": has adapter_model.bin (a PyTorch pickle, not read: "
        + "unpickling can run code) but no adapter_model.safetensors; re-save the adapter with save_pretrained(..., "
        + "safe_serialization=True), or convert: python -c \"import torch;", "--set", "adapters=" + coll);
    // The same bytes under the safetensors name: recognised by their zip signature.
    Files.write(binDir.resolve(AdapterDirectory.WEIGHTS), zipBytes());
    Files.delete(binDir.resolve("adapter_model.bin"));
    Path weights = binDir.resolve(AdapterDirectory.WEIGHTS);
    assertFails("Corrupt adapter file:" + binDir + ": " + weights + ": not a safetensors file: it is a zip archive, as "
        + "torch.save writes (pytorch_model.bin, .pt); loraspace reads only safetensors (unpickling can run code). "
        + "Convert it: python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('" + weights
        + "', map_location='cpu', weights_only=True)", "--set", "adapters=" + coll);
  }

  private static byte[] zipBytes() throws Exception {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(b)) {
      z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
      z.write(new byte[] {(byte) 0x80, 2, '}', '.'});
      z.closeEntry();
    }
    return b.toByteArray();
  }

  @Test
  void kLargerThanTheNumberOfVectors() {
    assertFails("K = 500 components for module 'model.layers.0.self_attn.k_proj' but its 14 adapters give",
        "--set", "adapters=" + collection, "--set", "components=500");
  }

  @Test
  void emptyCollection() throws Exception {
    Path empty = dir.resolve("empty");
    Files.createDirectories(empty.resolve("not-an-adapter"));
    assertFails("Collection '" + empty + "' holds no PEFT adapter directories", "--set", "adapters=" + empty);
  }

  @Test
  void leaveOneOutWithASingleAdapter() throws Exception {
    Path single = dir.resolve("single");
    copyDir(collection.resolve("adapter-0002"), single.resolve("only"));
    assertFails("Leave-one-out needs at least 2 adapters, collection '" + single + "' has 1", "--set",
        "adapters=" + single, "--set", "components=2");
  }

  @Test
  void manifestFileListsAdapters() throws Exception {
    Path list = dir.resolve("list.txt");
    Files.writeString(list, "# two adapters\n" + collection.resolve("adapter-0001") + "\n"
        + collection.relativize(collection.resolve("adapter-0002")) + "\n");
    // The second line is relative to the manifest's directory: it must not resolve there.
    assertFails("Corrupt adapter", "--set", "adapters=" + list, "--set", "components=1");
    Files.writeString(list, collection.resolve("adapter-0001") + "\nadapters/adapter-0002\n");
    Path out = dir.resolve("recycle-list");
    assertThat(cli("recycle", "--set", "adapters=" + list, "--set", "out=" + out, "--set", "components=1"))
        .as(errText()).isZero();
    assertThat(Manifest.json().readTree(out.resolve("report.json").toFile()).get("adapters").asInt()).isEqualTo(2);
  }

  private static void copyDir(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (var s = Files.list(from)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
