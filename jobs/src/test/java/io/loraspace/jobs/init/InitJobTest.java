package io.loraspace.jobs.init;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.LoraDa;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.safetensors.ShardedSafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The init job in local Spark on a synthetic corpus and checkpoint: every variant's residual plus adapter gives back
 * the base weight in the residual's dtype, reports are written, and bad input fails with a message naming the
 * offending value and leaves no output. (PEFT interop is {@link InitInteropTest}.)
 */
class InitJobTest {
  private static final int HIDDEN = 17;
  @TempDir static Path dir;
  private static final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private static Path store;

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

  @BeforeAll
  static void corpusAndStats() {
    Path corpus = dir.resolve("corpus");
    assertThat(cli("synth-corpus", "--set", "out=" + corpus, "--set", "samples=30", "--set", "layers=2",
        "--set", "hidden=" + HIDDEN, "--set", "kv-dim=5", "--set", "intermediate=9", "--set", "min-tokens=2",
        "--set", "max-tokens=20", "--set", "mean-scale=0.5", "--set", "seed=5",
        "--set", "gradients=true")).as(errText()).isZero();
    store = dir.resolve("stats");
    assertThat(cli("stats", "--set", "input=" + corpus, "--set", "out=" + store)).as(errText()).isZero();
  }

  /** Module → [out, in] of the synthetic corpus. */
  private static Map<String, int[]> shapes(int layers, int in) {
    Map<String, int[]> m = new LinkedHashMap<>();
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      m.put(p + "self_attn.q_proj", new int[] {HIDDEN, in});
      m.put(p + "self_attn.k_proj", new int[] {5, in});
      m.put(p + "self_attn.v_proj", new int[] {5, in});
      m.put(p + "mlp.gate_proj", new int[] {9, in});
      m.put(p + "mlp.up_proj", new int[] {9, in});
    }
    return m;
  }

  private static Path checkpoint(String name, Dtype dtype, Map<String, int[]> shapes, boolean qBias) {
    Random rnd = new Random(name.hashCode());
    ShardedSafetensorsWriter w = new ShardedSafetensorsWriter(2048).metadata("format", "pt");
    w.add("model.embed_tokens.weight", dtype, new long[] {11, HIDDEN}, new double[11 * HIDDEN]);
    for (Map.Entry<String, int[]> e : shapes.entrySet()) {
      int out = e.getValue()[0];
      int in = e.getValue()[1];
      double[] v = new double[out * in];
      for (int i = 0; i < v.length; i++) {
        v[i] = rnd.nextGaussian() / Math.sqrt(in);
      }
      w.add(e.getKey() + ".weight", dtype, new long[] {out, in}, v);
      if (qBias && e.getKey().endsWith("q_proj")) {
        double[] b = new double[out];
        for (int i = 0; i < out; i++) {
          b[i] = rnd.nextGaussian();
        }
        w.add(e.getKey() + ".bias", dtype, new long[] {out}, b);
      }
    }
    Path p = dir.resolve(name);
    w.write(p);
    return p;
  }

  @ParameterizedTest(name = "base {0}")
  @ValueSource(strings = {"F32", "BF16"})
  void residualPlusAdapterGivesBackTheBaseWeight(String dtypeName) throws Exception {
    Dtype dtype = Dtype.valueOf(dtypeName);
    Path base = checkpoint("base-" + dtypeName, dtype, shapes(2, HIDDEN), true);
    Path out = dir.resolve("init-" + dtypeName);
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base, "--set", "out=" + out,
        "--set", "methods=sc-lora,corda-ipa,corda-kpa,eva,pissa", "--set", "betas=0,0.5,0.9", "--set", "r=3",
        "--set", "rank-pattern=q_proj=4", "--set", "lora-alpha=6")).as(errText()).isZero();
    JsonNode summary = Manifest.json().readTree(out.resolve("report.json").toFile());
    List<String> tags = new ArrayList<>();
    summary.get("variants").forEach(v -> tags.add(v.get("tag").asText()));
    assertThat(tags).containsExactly("sc-lora-beta-0", "sc-lora-beta-0.5", "sc-lora-beta-0.9", "corda-ipa",
        "corda-kpa", "eva", "pissa");
    assertThat(Files.readString(out.resolve("report.html"))).contains("<svg").contains("sc-lora-beta-0.9");
    assertThat(out.resolve("_parts")).doesNotExist();
    assertThat(out.resolve("manifest.json")).exists();
    int checked = 0;
    try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(base)) {
      // Every task's reads reach Spark's input metrics: at least each target weight once per method and the store.
      long weightBytes = 0;
      for (String m : AdapterDirectory.read(out.resolve("pissa").resolve("adapter")).modules().keySet()) {
        weightBytes += ckpt.info(m + ".weight").byteLength();
      }
      JsonNode counts = Manifest.json().readTree(out.resolve("manifest.json").toFile()).path("counts");
      assertThat(counts.path("sparkBytesRead").asLong()).isGreaterThanOrEqualTo(5 * weightBytes);
      for (String tag : tags) {
        LoraAdapter adapter = AdapterDirectory.read(out.resolve(tag).resolve("adapter"));
        assertThat(adapter.modules()).hasSize(10);
        assertThat(adapter.factors("model.layers.1.self_attn.q_proj").rank()).isEqualTo(4);
        assertThat(adapter.factors("model.layers.1.self_attn.k_proj").rank()).isEqualTo(3);
        if (tag.equals("eva")) {
          assertThat(out.resolve(tag).resolve("residual")).doesNotExist();
          for (String m : adapter.modules().keySet()) {
            assertThat(adapter.factors(m).b().frobeniusNorm()).isZero();
          }
          continue;
        }
        try (ShardedCheckpoint res = ShardedCheckpoint.open(out.resolve(tag).resolve("residual"))) {
          assertThat(res.tensorNames()).hasSize(10);
          for (String m : adapter.modules().keySet()) {
            String key = m + ".weight";
            assertThat(res.info(key).dtype()).isEqualTo(dtype);
            DenseMatrix w = ckpt.readMatrix(key);
            DenseMatrix back = res.readMatrix(key);
            double maxRes = 0;
            for (double x : back.data()) {
              maxRes = Math.max(maxRes, Math.abs(x));
            }
            Matrices.axpy(1.0, adapter.delta(m), back);
            double err = Matrices.maxAbsDiff(back, w);
            // Rounding W − s·B·A to the residual dtype: half a unit in the last place of its largest entry (F32
            // 2^-24, BF16 2^-9), plus the F32 rounding of the stored factors.
            double ulp = dtype == Dtype.BF16 ? Math.pow(2, -8) : Math.pow(2, -22);
            assertThat(err).as(tag + " " + m).isLessThanOrEqualTo(ulp * Math.max(maxRes, 1e-3) + 1e-6 * maxRes);
            checked++;
          }
        }
      }
    }
    assertThat(checked).isEqualTo(6 * 10);
  }

  @Test
  void scLoraBetaTradesPlusEnergyAgainstMinusEnergy() throws Exception {
    Path base = checkpoint("base-tradeoff", Dtype.F32, shapes(2, HIDDEN), false);
    Path out = dir.resolve("init-tradeoff");
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base, "--set", "out=" + out,
        "--set", "betas=0,0.3,0.6,0.9", "--set", "r=3")).as(errText()).isZero();
    JsonNode summary = Manifest.json().readTree(out.resolve("report.json").toFile());
    double prevPlus = Double.POSITIVE_INFINITY;
    double prevMinus = Double.POSITIVE_INFINITY;
    for (JsonNode v : summary.get("variants")) {
      double plus = v.get("meanCapturedPlus").asDouble();
      double minus = v.get("meanCapturedMinus").asDouble();
      assertThat(plus).isLessThanOrEqualTo(prevPlus + 1e-12);
      assertThat(minus).isLessThanOrEqualTo(prevMinus + 1e-12);
      prevPlus = plus;
      prevMinus = minus;
      for (JsonNode m : v.get("modules")) {
        assertThat(m.get("eigenvalues")).hasSize(3);
      }
    }
  }

  private void assertFails(String expected, String... args) {
    Path out = dir.resolve("failed-" + Math.abs(String.join(" ", args).hashCode()));
    List<String> all = new ArrayList<>(List.of("init", "--set", "stats=" + store, "--set", "out=" + out));
    all.addAll(List.of(args));
    assertThat(cli(all.toArray(new String[0]))).as(errText()).isNotZero();
    assertThat(errText()).contains(expected);
    assertThat(out).as("no output after a failure").doesNotExist();
  }

  @Test
  void pissaAloneNeedsNoStatisticsStoreAndGivesTheSameAdapter() throws Exception {
    Path base = checkpoint("base-pissa", Dtype.F32, shapes(2, HIDDEN), false);
    Path withStore = dir.resolve("pissa-with-store");
    Path without = dir.resolve("pissa-without-store");
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base, "--set", "out=" + withStore,
        "--set", "methods=pissa", "--set", "r=3", "--set", "target-modules=q_proj,up_proj")).as(errText()).isZero();
    assertThat(cli("init", "--set", "base=" + base, "--set", "out=" + without, "--set", "methods=pissa",
        "--set", "r=3", "--set", "target-modules=q_proj,up_proj")).as(errText()).isZero();
    assertThat(Files.readAllBytes(without.resolve("pissa/adapter/adapter_model.safetensors")))
        .isEqualTo(Files.readAllBytes(withStore.resolve("pissa/adapter/adapter_model.safetensors")));
    assertThat(Files.readString(without.resolve("report.html"))).contains("none (data-free methods)");
    // Every other method needs a store: one line, before Spark, no output.
    int before = io.loraspace.jobs.spark.SparkSessions.created();
    Path failed = dir.resolve("corda-without-store");
    assertThat(cli("init", "--set", "base=" + base, "--set", "out=" + failed, "--set", "methods=pissa,corda-ipa"))
        .isEqualTo(1);
    assertThat(errText()).isEqualTo("loraspace init: error: Option 'stats' is required by method corda-ipa (a "
        + "statistics store written by the stats job; only pissa needs none): set it in the conf file or with --set "
        + "stats=...\n");
    assertThat(failed).doesNotExist();
    assertThat(cli("init", "--set", "base=" + base, "--set", "out=" + failed, "--set", "methods=pissa"))
        .isEqualTo(1);
    assertThat(errText()).isEqualTo("loraspace init: error: Option 'target-modules' is all-linear, which takes the "
        + "store's modules; without option 'stats' name the modules (e.g. --set target-modules=q_proj,v_proj)\n");
    assertThat(failed).doesNotExist();
    assertThat(io.loraspace.jobs.spark.SparkSessions.created()).isEqualTo(before);
  }

  @Test
  void betaOutsideTheUnitInterval() {
    Path base = checkpoint("base-ok", Dtype.F32, shapes(2, HIDDEN), false);
    assertFails("Option 'betas' has β = 1.5, outside [0, 1]", "--set", "base=" + base, "--set", "betas=0.5,1.5");
    assertFails("Option 'betas' has β = -0.2, outside [0, 1]", "--set", "base=" + base, "--set", "betas=-0.2");
  }

  @Test
  void scLoraWithoutMinusStatistics() {
    Path base = checkpoint("base-ok2", Dtype.F32, shapes(2, HIDDEN), false);
    assertFails("Method sc-lora needs D− statistics: option 'dataset-minus' is 'safety', which is not in store",
        "--set", "base=" + base, "--set", "dataset-minus=safety");
  }

  @Test
  void rankLargerThanAModuleAllows() {
    Path base = checkpoint("base-ok3", Dtype.F32, shapes(2, HIDDEN), false);
    assertFails("Rank r = 6 for module 'model.layers.0.self_attn.k_proj' is larger than its weight 5×17 allows "
        + "(r ≤ 5)", "--set", "base=" + base, "--set", "r=6");
  }

  @Test
  void targetModuleMissingFromTheCheckpoint() {
    Map<String, int[]> s = shapes(2, HIDDEN);
    s.remove("model.layers.1.mlp.up_proj");
    Path base = checkpoint("base-missing", Dtype.F32, s, false);
    assertFails("Target module 'model.layers.1.mlp.up_proj' is in the statistics store but the base checkpoint "
        + base + " has no tensor 'model.layers.1.mlp.up_proj.weight'", "--set", "base=" + base);
  }

  @Test
  void targetModuleMissingFromTheStore() {
    Map<String, int[]> s = shapes(2, HIDDEN);
    s.put("model.layers.0.self_attn.o_proj", new int[] {HIDDEN, HIDDEN});
    Path base = checkpoint("base-extra", Dtype.F32, s, false);
    assertFails("Target module 'model.layers.0.self_attn.o_proj' has no statistics for dataset 'plus' in store",
        "--set", "base=" + base, "--set", "target-modules=q_proj,o_proj");
  }

  @Test
  void statisticsWhoseDimensionDisagreesWithTheCheckpoint() {
    Path base = checkpoint("base-narrow", Dtype.F32, shapes(2, 16), false);
    assertFails("have dim 17 but module 'model.layers.0.mlp.gate_proj' of checkpoint " + base
        + " has weight shape [9, 16]", "--set", "base=" + base);
  }

  @Test
  void storeOfAnotherContractVersion() throws Exception {
    Path copy = dir.resolve("stats-v2");
    try (var files = Files.walk(store)) {
      for (Path p : files.toList()) {
        Path target = copy.resolve(store.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    ObjectNode index = (ObjectNode) Manifest.json().readTree(copy.resolve("store.json").toFile());
    index.put("contractVersion", 2);
    Files.write(copy.resolve("store.json"), Manifest.json().writeValueAsBytes(index));
    Path base = checkpoint("base-ok4", Dtype.F32, shapes(2, HIDDEN), false);
    Path out = dir.resolve("failed-v2");
    assertThat(cli("init", "--set", "stats=" + copy, "--set", "base=" + base, "--set", "out=" + out))
        .isNotZero();
    assertThat(errText()).contains("store.json: statistics of contract 'activations' version 2, this loraspace "
        + "reads 'activations' version 1");
    assertThat(out).doesNotExist();
  }

  @Test
  void outIsRequiredAsForStats() {
    Path base = checkpoint("base-ok6", Dtype.F32, shapes(2, HIDDEN), false);
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base)).isNotZero();
    assertThat(errText()).contains("Option 'out' is required (Output directory: local path, hdfs:// or s3a:// URI):"
        + " set it in a conf file or with --set out=...");
    assertThat(Path.of("out", "init")).doesNotExist();
  }

  @Test
  void unknownMethod() {
    Path base = checkpoint("base-ok5", Dtype.F32, shapes(2, HIDDEN), false);
    assertFails("Option 'methods' has unknown method 'lora-ga', expected one of [sc-lora, corda-ipa, corda-kpa, eva,"
        + " pissa, lora-da, lora-one]", "--set", "base=" + base, "--set", "methods=sc-lora,lora-ga");
  }

  /** The LoRA-DA factors of one module straight from the store's files (the job's plumbing is what is tested). */
  private static LoraDa.Result loraDaFromStore(String module, LoraDa.Options o, int r, double scaling) {
    Path site = null;
    try (var files = Files.walk(store.resolve("sites").resolve("plus"))) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
          if (f.metadata().get("modules").contains("\"" + module + "\"")) {
            site = p;
          }
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    try (SafetensorsFile s = SafetensorsFile.open(site);
        SafetensorsFile g = SafetensorsFile.open(store.resolve("modules").resolve("plus")
            .resolve(module + ".safetensors"))) {
      LoraDa.Statistics st = new LoraDa.Statistics(s.readMatrix("token_gram"),
          Long.parseLong(s.metadata().get("token_count")), g.readMatrix("grad_input_cross"),
          g.readDoubles("grad_sq_sum"), Long.parseLong(g.metadata().get("token_count")),
          Long.parseLong(g.metadata().get("sample_count")));
      return LoraDa.init(module, st, o, r, scaling, EigenSolver.FULL);
    }
  }

  @Test
  void loraDaAndLoraOneAdaptersWithoutResidual() throws Exception {
    Path base = checkpoint("base-da", Dtype.F32, shapes(2, HIDDEN), false);
    Path out = dir.resolve("init-da");
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base, "--set", "out=" + out,
        "--set", "methods=lora-da,lora-one", "--set", "r=3", "--set", "lora-alpha=6", "--set", "lora-da-n=5000",
        "--set", "lora-one-gamma=16")).as(errText()).isZero();
    JsonNode summary = Manifest.json().readTree(out.resolve("report.json").toFile());
    List<String> tags = new ArrayList<>();
    summary.get("variants").forEach(v -> tags.add(v.get("tag").asText()));
    assertThat(tags).containsExactly("lora-da", "lora-one");
    JsonNode da = Manifest.json().readTree(out.resolve("lora-da/report.json").toFile());
    assertThat(da.get("variant").asText()).contains("paper").contains("N = 5000");
    assertThat(da.get("modules").get(0).get("omegaBottomEigenvalues")).hasSize(3);
    assertThat(out.resolve("lora-da/residual")).doesNotExist();
    assertThat(out.resolve("lora-one/residual")).doesNotExist();
    LoraAdapter adapter = AdapterDirectory.read(out.resolve("lora-da/adapter"));
    assertThat(adapter.modules()).hasSize(10);
    LoraDa.Options o = new LoraDa.Options();
    o.n = 5000;
    for (String m : adapter.modules().keySet()) {
      DenseMatrix expected = loraDaFromStore(m, o, 3, 2.0).factors.delta();
      DenseMatrix got = adapter.delta(m);
      assertThat(Matrices.relativeFrobeniusDiff(got, expected)).as(m).isLessThan(1e-6);
      assertThat(got.frobeniusNorm()).isGreaterThan(0);
    }
    LoraAdapter one = AdapterDirectory.read(out.resolve("lora-one/adapter"));
    for (String m : one.modules().keySet()) {
      assertThat(one.factors(m).b().frobeniusNorm()).as(m).isGreaterThan(0);
    }

    // The no-variance, raw-gradient ablation is reported as such.
    Path abl = dir.resolve("init-da-ablation");
    assertThat(cli("init", "--set", "stats=" + store, "--set", "base=" + base, "--set", "out=" + abl,
        "--set", "methods=lora-da", "--set", "r=2", "--set", "lora-da-n=5000", "--set", "lora-da-variance-weight=0",
        "--set", "lora-da-displacement=gradient")).as(errText()).isZero();
    JsonNode ar = Manifest.json().readTree(abl.resolve("lora-da/report.json").toFile());
    assertThat(ar.get("variant").asText()).contains("ablation").contains("no variance term")
        .contains("raw-gradient displacement");
  }

  /** A copy of the store to damage. */
  private static Path copyStore(String name) throws Exception {
    Path copy = dir.resolve(name);
    try (var files = Files.walk(store)) {
      for (Path p : files.toList()) {
        Path target = copy.resolve(store.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return copy;
  }

  private void assertFailsOn(Path stats, String expected, String... args) {
    Path out = dir.resolve("failed-" + Math.abs((stats + String.join(" ", args)).hashCode()));
    List<String> all = new ArrayList<>(List.of("init", "--set", "stats=" + stats, "--set", "out=" + out));
    all.addAll(List.of(args));
    assertThat(cli(all.toArray(new String[0]))).as(errText()).isNotZero();
    assertThat(errText()).contains(expected);
    assertThat(out).as("no output after a failure").doesNotExist();
  }

  @Test
  void loraDaWithoutGradientStatistics() throws Exception {
    Path copy = copyStore("stats-no-grad");
    ObjectNode index = (ObjectNode) Manifest.json().readTree(copy.resolve("store.json").toFile());
    // Gradients were captured for every module but q_proj of layer 0.
    com.fasterxml.jackson.databind.node.ArrayNode kept = Manifest.json().createArrayNode();
    for (JsonNode n : index.get("modules")) {
      if (!n.get("module").asText().equals("model.layers.0.self_attn.q_proj")) {
        kept.add(n);
      }
    }
    index.set("modules", kept);
    Files.write(copy.resolve("store.json"), Manifest.json().writeValueAsBytes(index));
    Path base = checkpoint("base-da1", Dtype.F32, shapes(2, HIDDEN), false);
    assertFailsOn(copy, "Target module 'model.layers.0.self_attn.q_proj' has no gradient statistics for dataset "
        + "'plus' in store " + copy, "--set", "base=" + base, "--set", "methods=lora-da", "--set", "lora-da-n=100",
        "--set", "r=2", "--set", "target-modules=q_proj");
    assertFailsOn(copy, "capture with --gradients", "--set", "base=" + base, "--set", "methods=lora-one",
        "--set", "r=2", "--set", "target-modules=self_attn.q_proj");
  }

  @Test
  void loraDaNonPositiveN() {
    Path base = checkpoint("base-da2", Dtype.F32, shapes(2, HIDDEN), false);
    assertFails("Option 'lora-da-n' is 0: N, the size of the fine-tuning set, must be ≥ 1", "--set", "base=" + base,
        "--set", "methods=lora-da", "--set", "r=2");
    assertFails("Option 'lora-da-n' is -5", "--set", "base=" + base, "--set", "methods=lora-da", "--set", "r=2",
        "--set", "lora-da-n=-5");
  }

  @Test
  void loraDaZeroOutputGradientWithoutDamping() throws Exception {
    Path copy = copyStore("stats-zero-y");
    String module = "model.layers.1.mlp.up_proj";
    Path file = copy.resolve("modules/plus/" + module + ".safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      w.metadata(f.metadata());
      double[] sq = f.readDoubles("grad_sq_sum");
      sq[4] = 0;
      w.addMatrix("grad_input_cross", Dtype.F64, f.readMatrix("grad_input_cross"));
      w.add("grad_sq_sum", Dtype.F64, new long[] {sq.length}, sq);
    }
    w.write(file);
    Path base = checkpoint("base-da3", Dtype.F32, shapes(2, HIDDEN), false);
    assertFailsOn(copy, "LoRA-DA, module '" + module + "': output-gradient diagonal y[4] = 0.0 with "
        + "lora-da-y-damping = 0; set lora-da-y-damping > 0", "--set", "base=" + base, "--set", "methods=lora-da",
        "--set", "lora-da-n=100", "--set", "r=2", "--set", "lora-da-y-damping=0");
    // With the default damping the same store works.
    Path ok = dir.resolve("init-zero-y-damped");
    assertThat(cli("init", "--set", "stats=" + copy, "--set", "base=" + base, "--set", "out=" + ok,
        "--set", "methods=lora-da", "--set", "lora-da-n=100", "--set", "r=2")).as(errText()).isZero();
  }

  @Test
  void loraDaStatisticsOfDifferentDatasetsMixed() throws Exception {
    // A gradient file of D− copied over D+'s.
    Path copy = copyStore("stats-mixed");
    String module = "model.layers.0.self_attn.v_proj";
    Files.copy(copy.resolve("modules/minus/" + module + ".safetensors"),
        copy.resolve("modules/plus/" + module + ".safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Path base = checkpoint("base-da4", Dtype.F32, shapes(2, HIDDEN), false);
    assertFailsOn(copy, "gradient statistics with dataset 'minus', but the store index lists this file as dataset "
        + "'plus'", "--set", "base=" + base, "--set", "methods=lora-da", "--set", "lora-da-n=100", "--set", "r=2");
    // An index whose gradient entry counts other tokens than the input statistics.
    Path copy2 = copyStore("stats-mixed2");
    ObjectNode index = (ObjectNode) Manifest.json().readTree(copy2.resolve("store.json").toFile());
    for (JsonNode n : index.get("modules")) {
      if (n.get("dataset").asText().equals("plus") && n.get("module").asText().equals(module)) {
        ((ObjectNode) n).put("tokenCount", n.get("tokenCount").asLong() + 7);
      }
    }
    Files.write(copy2.resolve("store.json"), Manifest.json().writeValueAsBytes(index));
    assertFailsOn(copy2, "Statistics of module '" + module + "' do not come from the same tokens",
        "--set", "base=" + base, "--set", "methods=lora-da", "--set", "lora-da-n=100", "--set", "r=2");
  }
}
