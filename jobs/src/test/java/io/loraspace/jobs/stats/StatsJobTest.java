package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.activations.ActivationRow;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.corpus.ActivationParquetReader;
import io.loraspace.jobs.corpus.ActivationParquetWriter;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.StoreReference;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The stats job end to end in local Spark against plain-loop references, and its bad-input messages. */
class StatsJobTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    err.reset();
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String lastErrorLine() {
    String[] lines = err.toString(StandardCharsets.UTF_8).strip().split("\n");
    return lines[lines.length - 1];
  }

  private Path corpus(int files, String name) {
    Path out = dir.resolve(name);
    assertThat(cli("synth-corpus", "--set", "out=" + out, "--set", "files=" + files, "--set", "samples=12",
        "--set", "layers=1", "--set", "hidden=17", "--set", "kv-dim=5", "--set", "intermediate=9",
        "--set", "min-tokens=1", "--set", "max-tokens=40", "--set", "block-tokens=7", "--set", "gradients=true",
        "--set", "mean-scale=0.5", "--set", "dtype=BF16", "--set", "seed=3"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    return out;
  }

  @ParameterizedTest(name = "{0} input files")
  @ValueSource(ints = {1, 3, 17})
  void storeEqualsPlainLoopReference(int files) throws Exception {
    Path in = corpus(files, "corpus");
    Path out = dir.resolve("stats");
    assertThat(cli("stats", "--set", "input=" + in, "--set", "out=" + out, "--set", "sample-batch=5"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    StoreReference ref = StoreReference.of(in.toFile());
    JsonNode store = Manifest.json().readTree(out.resolve("store.json").toFile());
    assertThat(store.get("sites")).hasSize(ref.sites.size()).hasSize(4);
    assertThat(store.get("modules")).hasSize(ref.modules.size()).hasSize(10);
    for (JsonNode n : store.get("sites")) {
      StoreReference.Site r = ref.sites.get(n.get("dataset").asText() + "|" + n.get("site").asText());
      try (SafetensorsFile f = SafetensorsFile.open(out.resolve(n.get("file").asText()))) {
        assertThat(StoreReference.relErr(f.readDoubles("token_gram"), StoreReference.flatten(r.tokenGram)))
            .isLessThan(1e-10);
        assertThat(StoreReference.relErr(f.readDoubles("token_sum"), r.tokenSum)).isLessThan(1e-10);
        assertThat(StoreReference.relErr(f.readDoubles("sample_gram"), StoreReference.flatten(r.sampleGram())))
            .isLessThan(1e-10);
        assertThat(StoreReference.relErr(f.readDoubles("sample_token_weighted_sum"), r.tokenWeightedSum()))
            .isLessThan(1e-10);
        Map<String, String> meta = f.metadata();
        assertThat(Long.parseLong(meta.get("token_count"))).isEqualTo(r.tokens);
        assertThat(Long.parseLong(meta.get("sample_count"))).isEqualTo(r.sampleSums.size()).isEqualTo(12);
        long sumT2 = 0;
        for (long t : r.sampleTokens.values()) {
          sumT2 += t * t;
        }
        assertThat(Double.parseDouble(meta.get("sum_tokens_squared"))).isEqualTo((double) sumT2);
      }
    }
    for (JsonNode n : store.get("modules")) {
      StoreReference.Module r = ref.modules.get(n.get("dataset").asText() + "|" + n.get("module").asText());
      try (SafetensorsFile f = SafetensorsFile.open(out.resolve(n.get("file").asText()))) {
        assertThat(StoreReference.relErr(f.readDoubles("grad_input_cross"), StoreReference.flatten(r.cross)))
            .isLessThan(1e-10);
        assertThat(StoreReference.relErr(f.readDoubles("grad_sq_sum"), r.sqSum)).isLessThan(1e-10);
        assertThat(Long.parseLong(f.metadata().get("sample_count"))).isEqualTo(r.samples.size());
        assertThat(Long.parseLong(f.metadata().get("token_count"))).isEqualTo(r.tokens);
      }
    }
    JsonNode manifest = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(manifest.path("counts").path("inputFiles").asLong()).isEqualTo(files);
    assertThat(manifest.path("counts").path("passes").asLong()).isEqualTo(1);
    for (JsonNode n : store.get("sites")) {
      assertThat(manifest.path("siteDtypes").path(n.get("dataset").asText() + "/" + n.get("site").asText())
          .path("BF16").asLong()).isPositive();
    }
    assertThat(manifest.path("siteDtypes")).hasSize(4);
    // Tasks read the files themselves; their reads reach Spark's input metrics (the progress log's "read").
    assertThat(manifest.path("counts").path("sparkBytesRead").asLong())
        .isGreaterThanOrEqualTo(manifest.path("counts").path("inputBytes").asLong()).isPositive();
  }

  /**
   * METHODS.md: for y = W x + b, the per-sample output Gram follows from the store without output capture:
   * Σ ĥ ĥᵀ = W S Wᵀ + W u bᵀ + b uᵀ Wᵀ + (Σ T_s²) b bᵀ. Checked against outputs computed row by row.
   */
  @Test
  void outputCovarianceFromTheStoreEqualsTheDirectlyComputedOne() throws Exception {
    Path in = corpus(3, "corpus");
    Path out = dir.resolve("stats");
    assertThat(cli("stats", "--set", "input=" + in, "--set", "out=" + out)).isZero();
    int d = 17;
    int o = 5;
    java.util.Random rnd = new java.util.Random(1);
    double[][] w = new double[o][d];
    double[] b = new double[o];
    for (int i = 0; i < o; i++) {
      b[i] = rnd.nextGaussian();
      for (int j = 0; j < d; j++) {
        w[i][j] = rnd.nextGaussian();
      }
    }
    // Direct: ĥ_s = Σ_t (W x_t + b) per sample, from the decoded corpus rows.
    StoreReference ref = StoreReference.of(in.toFile());
    StoreReference.Site site = ref.sites.get("plus|model.layers.0.self_attn.in");
    double[][] direct = new double[o][o];
    for (Map.Entry<Long, double[]> e : site.sampleSums.entrySet()) {
      long t = site.sampleTokens.get(e.getKey());
      double[] h = new double[o];
      for (int i = 0; i < o; i++) {
        h[i] = t * b[i];
        for (int j = 0; j < d; j++) {
          h[i] += w[i][j] * e.getValue()[j];
        }
      }
      for (int i = 0; i < o; i++) {
        for (int k = 0; k < o; k++) {
          direct[i][k] += h[i] * h[k];
        }
      }
    }
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve("sites/plus/model.layers.0.self_attn.in.safetensors"))) {
      double[] s = f.readDoubles("sample_gram");
      double[] u = f.readDoubles("sample_token_weighted_sum");
      double t2 = Double.parseDouble(f.metadata().get("sum_tokens_squared"));
      double[] derived = new double[o * o];
      for (int i = 0; i < o; i++) {
        for (int k = 0; k < o; k++) {
          double v = t2 * b[i] * b[k];
          double wu = 0;
          double uw = 0;
          for (int j = 0; j < d; j++) {
            wu += w[i][j] * u[j];
            uw += w[k][j] * u[j];
            for (int l = 0; l < d; l++) {
              v += w[i][j] * s[j * d + l] * w[k][l];
            }
          }
          derived[i * o + k] = v + wu * b[k] + b[i] * uw;
        }
      }
      assertThat(StoreReference.relErr(derived, StoreReference.flatten(direct))).isLessThan(1e-10);
    }
  }

  @Test
  void smallMemoryBudgetRunsSeveralPassesWithTheSameResult() throws Exception {
    Path in = corpus(3, "corpus");
    Path one = dir.resolve("one");
    assertThat(cli("stats", "--set", "input=" + in, "--set", "out=" + one)).isZero();
    // A site key needs 8·17² + 8·17 = 2448 bytes; modules up to 8·9·17 + 16·9 = 1368: 3000 bytes forces many passes.
    assertThat(cli("stats", "--set", "input=" + in, "--set", "out=" + dir.resolve("tiny"), "--set",
        "max-task-memory=3000")).as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonNode m = Manifest.json().readTree(dir.resolve("tiny/manifest.json").toFile());
    assertThat(m.path("counts").path("passes").asLong()).isGreaterThan(3);
    JsonNode store = Manifest.json().readTree(one.resolve("store.json").toFile());
    for (JsonNode n : store.get("sites")) {
      try (SafetensorsFile a = SafetensorsFile.open(one.resolve(n.get("file").asText()));
          SafetensorsFile b = SafetensorsFile.open(dir.resolve("tiny").resolve(n.get("file").asText()))) {
        assertThat(StoreReference.relErr(b.readDoubles("sample_gram"), a.readDoubles("sample_gram")))
            .isLessThan(1e-12);
      }
    }
  }

  /**
   * A synth-corpus (BF16) file copied row by row, with one block of one site re-tagged F16 (same byte length, so
   * nothing else notices): the scan fails naming that file, row and site, with the dtypes seen and their counts.
   */
  @Test
  void blockTaggedWithAnotherDtypeThanItsSiteFailsNamingFileRowAndSite() throws Exception {
    Path in = corpus(1, "corpus");
    Path src;
    try (var files = Files.list(in)) {
      src = files.filter(f -> f.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    Path bad = dir.resolve("mislabelled");
    Files.createDirectories(bad);
    Path file = bad.resolve("part-00000.parquet");
    String site = null;
    String dataset = null;
    long siteRows = 0;
    long relabelled = -1;
    long row = 0;
    try (ActivationParquetReader r = ActivationParquetReader.open(new Configuration(),
        new org.apache.hadoop.fs.Path(src.toUri()), true, true);
        ActivationParquetWriter w = new ActivationParquetWriter(new Configuration(),
            new org.apache.hadoop.fs.Path(file.toUri()), 1 << 20, "test", null)) {
      ActivationRow a;
      while ((a = r.next()) != null) {
        if (site == null) {
          site = a.site();
          dataset = a.dataset();
        }
        Dtype dtype = a.dtype();
        if (a.site().equals(site) && a.dataset().equals(dataset)) {
          siteRows++;
          if (siteRows == 3) {
            dtype = Dtype.F16;
            relabelled = row;
          }
        }
        w.write(new ActivationRow(a.dataset(), a.sample(), a.block(), a.site(), a.modules(), a.tokens(), a.dim(),
            dtype, a.input(), a.grads()));
        row++;
      }
    }
    String where = "file:" + file + " row ";
    assertFails(bad, "Site '" + site + "' of dataset '" + dataset + "' mixes block dtypes: BF16 × " + (siteRows - 1)
        + " (first at " + where + "0), F16 × 1 (first at " + where + relabelled + "); the F16 block at " + where
        + relabelled + " is probably mislabelled (blocks of one dataset and site must share a dtype; "
        + "allow-mixed-dtypes=true accepts it)");

    Path out = dir.resolve("mixed-allowed");
    assertThat(cli("stats", "--set", "input=" + bad, "--set", "out=" + out, "--set", "allow-mixed-dtypes=true"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonNode counts = Manifest.json().readTree(out.resolve("manifest.json").toFile()).path("siteDtypes")
        .path(dataset + "/" + site);
    assertThat(counts.path("BF16").asLong()).isEqualTo(siteRows - 1);
    assertThat(counts.path("F16").asLong()).isEqualTo(1);
  }

  @Test
  void keyLargerThanTheBudgetFailsNamingIt() {
    Path in = corpus(1, "corpus");
    assertThat(cli("stats", "--set", "input=" + in, "--set", "out=" + dir.resolve("t"), "--set",
        "max-task-memory=2000")).isEqualTo(1);
    // The largest key is q_proj's cross product + diagonal: 8·17·17 + 16·17 = 2584 bytes.
    assertThat(lastErrorLine()).isEqualTo("loraspace stats: error: Statistics key 'module minus/model.layers.0."
        + "self_attn.q_proj' needs 2584 bytes of accumulators, more than the per-task budget max-task-memory=2000; "
        + "raise max-task-memory");
    assertThat(dir.resolve("t")).doesNotExist();
  }

  // ---- bad input ----

  private static byte[] f32(int n, float value) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(value + i * 0.01f);
    }
    return b.array();
  }

  private Path writeRows(String name, List<ActivationRow> rows) throws Exception {
    Path d = dir.resolve(name);
    Files.createDirectories(d);
    try (ActivationParquetWriter w = new ActivationParquetWriter(new Configuration(),
        new org.apache.hadoop.fs.Path(d.resolve("part-00000.parquet").toUri()), 1 << 20, "test", null)) {
      for (ActivationRow r : rows) {
        w.write(r);
      }
    }
    return d;
  }

  private static ActivationRow row(long sample, String site, int t, int d, byte[] input,
      List<ActivationRow.GradBlock> grads) {
    return new ActivationRow("ds", sample, 0, site, List.of("q"), t, d, Dtype.F32, input, grads);
  }

  private void assertFails(Path input, String expectedMessagePart, String... extra) {
    Path out = dir.resolve("out");
    List<String> args = new ArrayList<>(List.of("stats", "--set", "input=" + input, "--set", "out=" + out));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    assertThat(cli(args.toArray(new String[0]))).isEqualTo(1);
    assertThat(lastErrorLine()).startsWith("loraspace stats: error: ").contains(expectedMessagePart);
    assertThat(out).doesNotExist();
    assertThat(dir.toFile().list()).noneMatch(n -> n.contains("loraspace-tmp"));
  }

  @Test
  void blockOfWrongByteLengthFailsNamingFileRowAndSizes() throws Exception {
    Path in = writeRows("bad", List.of(row(0, "s", 2, 3, f32(6, 1), List.of()), row(1, "s", 2, 3, f32(5, 1),
        List.of())));
    assertFails(in, "part-00000.parquet row 1 (dataset 'ds', sample 1, site 's', block 0): input block has 20 bytes, "
        + "expected tokens × dim × F32 size = 2 × 3 × 4 = 24");
  }

  @Test
  void dimensionChangingWithinASiteFails() throws Exception {
    Path in = writeRows("bad", List.of(row(0, "s", 2, 3, f32(6, 1), List.of()), row(1, "s", 2, 4, f32(8, 1),
        List.of())));
    assertFails(in, "Site 's' has dim 3 at ");
    assertThat(lastErrorLine()).contains("part-00000.parquet row 0 but dim 4 at ").contains(
        "part-00000.parquet row 1 (d must be constant within a site)");
  }

  @Test
  void nanFailsNamingFileRowSiteTokenAndDimByDefault() throws Exception {
    byte[] in = f32(6, 1);
    ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * 4, Float.NaN); // token 1, dim 1
    Path p = writeRows("bad", List.of(row(0, "s", 2, 3, f32(6, 1), List.of()), row(7, "s", 2, 3, in, List.of())));
    assertFails(p, "part-00000.parquet row 1 (dataset 'ds', sample 7, site 's'): input NaN at token 1, dim 1");
  }

  @Test
  void nanIsSkippedAndCountedOnRequest() throws Exception {
    byte[] in = f32(6, 1);
    ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).putFloat(5 * 4, Float.POSITIVE_INFINITY); // token 1, dim 2
    Path p = writeRows("bad", List.of(row(0, "s", 2, 3, f32(6, 1), List.of()), row(7, "s", 2, 3, in, List.of())));
    Path out = dir.resolve("out");
    assertThat(cli("stats", "--set", "input=" + p, "--set", "out=" + out, "--set", "non-finite=skip")).isZero();
    JsonNode m = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(m.path("counts").path("skippedTokens").asLong()).isEqualTo(1);
    assertThat(m.path("counts").path("tokens").asLong()).isEqualTo(3);
  }

  @Test
  void unknownDtypeFailsNamingIt() throws Exception {
    Path p = writeRows("bad", List.of(new ActivationRow("ds", 0, 0, "s", List.of("q"), 2, 3, Dtype.I32, f32(6, 1),
        List.of())));
    assertFails(p, "part-00000.parquet row 0: block dtype I32 is not allowed (contract v1: F32, BF16, F16)");
  }

  @Test
  void unknownContractVersionFailsNamingFileAndVersion() throws Exception {
    Path d = dir.resolve("v2");
    Files.createDirectories(d);
    org.apache.parquet.schema.MessageType schema =
        org.apache.parquet.schema.MessageTypeParser.parseMessageType(ActivationContract.PARQUET_SCHEMA);
    try (var w = org.apache.parquet.hadoop.example.ExampleParquetWriter.builder(
        org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(
            new org.apache.hadoop.fs.Path(d.resolve("part-00000.parquet").toUri()), new Configuration()))
        .withType(schema)
        .withExtraMetaData(Map.of(ActivationContract.META_CONTRACT, "activations",
            ActivationContract.META_VERSION, "2"))
        .build()) {
      var g = new org.apache.parquet.example.data.simple.SimpleGroupFactory(schema).newGroup()
          .append("dataset", "ds").append("sample", 0L).append("block", 0).append("site", "s");
      g.addGroup("modules").addGroup("list").append("element", "q");
      g.append("tokens", 2).append("dim", 3).append("dtype", "F32")
          .append("input", org.apache.parquet.io.api.Binary.fromConstantByteArray(f32(6, 1)));
      w.write(g);
    }
    assertFails(d, "part-00000.parquet: contract version '2' is not supported (this build reads version 1)");
  }

  @Test
  void gradientBlockWithOtherTokenCountThanItsInputFails() throws Exception {
    Path p = writeRows("bad", List.of(row(0, "s", 2, 3, f32(6, 1), List.of(new ActivationRow.GradBlock("q", 4,
        f32(12, 1))))));
    assertFails(p, "part-00000.parquet row 0 (dataset 'ds', sample 0, site 's', block 0): gradient block of module "
        + "'q' has 48 bytes, expected tokens × 4 × 4 = 32 (it holds 3 tokens, the input 2)");
  }

  @Test
  void selectionMatchingNoRowsFails() throws Exception {
    Path p = writeRows("ok", List.of(row(0, "s", 2, 3, f32(6, 1), List.of())));
    assertFails(p, "Selection datasets=[] sites=[nope.*] matches no rows in 1 files (datasets present: [ds]; sites "
        + "present: [s])", "sites=nope.*");
  }

  @Test
  void unknownDatasetInSelectionFails() throws Exception {
    Path p = writeRows("ok", List.of(row(0, "s", 2, 3, f32(6, 1), List.of())));
    assertFails(p, "Selection datasets=[other]", "datasets=other");
  }
}
