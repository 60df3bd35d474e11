package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.SparkSessions;
import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.MotoS3;
import io.loraspace.jobs.testing.Repo;
import io.loraspace.jobs.testing.StoreReference;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * stats' model mode against the capture path on the same tokens: tiny Llama (F32 and BF16 checkpoints) and a tiny
 * Qwen2 with q/k/v biases, with gradients. The executors' model workers must give the store that capture_hf.py →
 * Parquet → stats gives (1e-12 relative), including after a worker is killed mid-task; bad input fails in one line.
 */
class ModelStatsTest {
  @TempDir static Path fixtures;
  @TempDir Path dir;

  @BeforeAll
  static void buildFixtures() throws Exception {
    Path log = fixtures.resolve("fixture.log");
    Process p = new ProcessBuilder(Repo.python().toString(),
        Repo.root().resolve("scripts/python/model_mode_fixture.py").toString(), fixtures.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(600, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
  }

  private Path modelStats(String model, String out, String... extra) {
    Path store = dir.resolve(out);
    List<String> args = new ArrayList<>(List.of("stats", "--set", "tokens=" + fixtures.resolve(model + "/tokens"),
        "--set", "model=" + fixtures.resolve(model + "/model"), "--set", "gradients=on", "--set",
        "python=" + Repo.python(), "--set", "out=" + store, "--set", "spark.master=local[2]"));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    Cli.Result r = Cli.exec(args.toArray(new String[0]));
    assertThat(r.code()).as(r.err()).isZero();
    return store;
  }

  private Path activationStats(String model) {
    Path store = dir.resolve("act-" + model);
    Cli.Result r = Cli.exec("stats", "--set", "input=" + fixtures.resolve(model + "/activations"), "--set", "out=" + store,
        "--set", "spark.master=local[2]");
    assertThat(r.code()).as(r.err()).isZero();
    return store;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"llama-f32", "llama-bf16", "qwen2-f32"})
  void modelModeEqualsCaptureThenStatsOnTheSameTokens(String model) throws Exception {
    Path expected = activationStats(model);
    // The Qwen2 corpus is cut into tasks of 3 samples (3 tasks on 2 cores): the grouping moves sums at the last bit only.
    Path actual = model.startsWith("qwen2") ? modelStats(model, "model-" + model, "samples-per-task=3")
        : modelStats(model, "model-" + model);
    ModelStoreAssertions.assertSameStore(expected, actual, 1e-12);
    JsonNode m = Manifest.json().readTree(actual.resolve("manifest.json").toFile());
    assertThat(m.path("model").path("device").asText()).isEqualTo("cpu");
    assertThat(m.path("model").path("worker").path("torch").asText()).isNotEmpty();
    // Only statistics were written: the store's files and the protocol's, no activations.
    for (JsonNode f : m.get("outputs")) {
      assertThat(f.get("path").asText()).matches("store\\.json|_loraspace_output|(sites|modules)/.*\\.safetensors");
    }
    if (model.equals("llama-f32")) {
      // init runs unchanged on the model-mode store and gives the adapters it gives on the capture path's store.
      Path fromCapture = init(expected, model, "init-capture");
      Path fromModel = init(actual, model, "init-model");
      for (String variant : List.of("sc-lora-beta-0.5", "corda-ipa", "lora-da")) {
        Path a = fromCapture.resolve(variant + "/adapter/adapter_model.safetensors");
        try (SafetensorsFile fa = SafetensorsFile.open(a);
            SafetensorsFile fb = SafetensorsFile.open(fromModel.resolve(variant + "/adapter/adapter_model.safetensors"))) {
          assertThat(fb.tensorNames()).isEqualTo(fa.tensorNames()).isNotEmpty();
          for (String t : fa.tensorNames()) {
            assertThat(StoreReference.relErr(fb.readDoubles(t), fa.readDoubles(t))).as(variant + ":" + t)
                .isLessThan(1e-8);
          }
        }
      }
    }
  }

  private Path init(Path store, String model, String out) {
    Path dirOut = dir.resolve(out);
    Cli.Result r = Cli.exec("init", "--set", "stats=" + store, "--set", "base=" + fixtures.resolve(model + "/model"),
        "--set", "methods=sc-lora,corda-ipa,lora-da", "--set", "lora-da-n=100", "--set", "r=4", "--set",
        "target-modules=q_proj,v_proj,down_proj", "--set", "out=" + dirOut, "--set", "spark.master=local[2]");
    assertThat(r.code()).as(r.err()).isZero();
    return dirOut;
  }

  @Test
  void workerKilledMidTaskIsReplacedAndTheStoreIsTheSame() throws Exception {
    Path reference = modelStats("llama-f32", "reference");
    Path marker = dir.resolve("worker-killed");
    System.setProperty(ModelPassTask.TEST_DIE_ONCE_PROPERTY, marker.toString());
    try {
      // local[2,3]: two cores, a failed task is retried up to 3 times (as on a cluster).
      Path afterKill = modelStats("llama-f32", "after-kill", "spark.master=local[2,3]");
      assertThat(marker).as("a worker was killed mid-task").exists();
      assertThat(StoreReference.dataHashes(afterKill)).isEqualTo(StoreReference.dataHashes(reference));
    } finally {
      System.clearProperty(ModelPassTask.TEST_DIE_ONCE_PROPERTY);
    }
  }

  @Test
  void tokenCorpusOnS3GivesTheSameStore() throws Exception {
    Path local = modelStats("qwen2-f32", "local-qwen2");
    try (MotoS3 s3 = MotoS3.start(dir)) {
      s3.createBucket("tokens");
      Configuration conf = new Configuration();
      s3.hadoopConf().forEach(conf::set);
      FileSystem fs = FileSystem.get(URI.create("s3a://tokens/"), conf);
      try (var files = Files.list(fixtures.resolve("qwen2-f32/tokens"))) {
        for (Path f : (Iterable<Path>) files::iterator) {
          try (var out = fs.create(new org.apache.hadoop.fs.Path("s3a://tokens/corpus/" + f.getFileName()))) {
            Files.copy(f, out);
          }
        }
      }
      List<String> extra = new ArrayList<>(List.of("tokens=s3a://tokens/corpus"));
      extra.addAll(s3.sparkSettings());
      Path fromS3 = modelStats("qwen2-f32", "from-s3", extra.toArray(new String[0]));
      assertThat(StoreReference.dataHashes(fromS3)).isEqualTo(StoreReference.dataHashes(local));
    }
  }

  @Test
  void badModelDirectoryFailsBeforeSpark() throws Exception {
    int before = SparkSessions.created();
    Path empty = Files.createDirectories(dir.resolve("not-a-model"));
    Cli.Result r = Cli.exec("stats", "--set", "tokens=" + fixtures.resolve("llama-f32/tokens"), "--set", "model=" + empty,
        "--set", "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace stats: error: Option 'model' is '" + empty + "', which has no config.json "
        + "(an HF checkpoint directory is expected: config.json plus model.safetensors or its shards)\n");
    assertThat(SparkSessions.created()).isEqualTo(before);
  }

  @Test
  void tokenIdOutsideTheVocabularyNamesFileRowAndPosition() throws Exception {
    // A token corpus with one id past the tiny Llama's vocabulary of 256.
    Path tokens = dir.resolve("tokens");
    Path log = dir.resolve("w.log");
    Process p = new ProcessBuilder(Repo.python().toString(), "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
        + "import capture_hf; capture_hf.write_token_corpus(sys.argv[2], [('plus', 0, [1, 2, 3]), "
        + "('plus', 1, [4, 256, 5])])", Repo.root().resolve("scripts/capture").toString(), tokens.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(log)).isZero();
    Cli.Result r = Cli.exec("stats", "--set", "tokens=" + tokens, "--set", "model=" + fixtures.resolve("llama-f32/model"),
        "--set", "python=" + Repo.python(), "--set", "out=" + dir.resolve("o"), "--set", "spark.master=local[2]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace stats: error: file:" + tokens.resolve("part-00000.parquet") + " row 1 "
        + "(sample 1 of dataset 'plus', position 1): token id 256 is outside the model's vocabulary (size 256)");
  }

  @Test
  void unknownModulesAndMissingPythonPackagesAreOneLine() throws Exception {
    Cli.Result r = Cli.exec("stats", "--set", "tokens=" + fixtures.resolve("llama-f32/tokens"), "--set",
        "model=" + fixtures.resolve("llama-f32/model"), "--set", "python=" + Repo.python(), "--set",
        "model-modules=no_such_proj", "--set", "out=" + dir.resolve("o1"), "--set", "spark.master=local[2]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace stats: error: Option 'model-modules': modules 'no_such_proj' match no "
        + "nn.Linear module of the model\n");

    // An interpreter without site-packages: no numpy, torch or transformers.
    Path bare = dir.resolve("python-bare");
    Files.writeString(bare, "#!/bin/sh\nexec " + Repo.python() + " -S \"$@\"\n");
    assertThat(bare.toFile().setExecutable(true)).isTrue();
    r = Cli.exec("stats", "--set", "tokens=" + fixtures.resolve("llama-f32/tokens"), "--set",
        "model=" + fixtures.resolve("llama-f32/model"), "--set", "python=" + bare, "--set", "out=" + dir.resolve("o2"),
        "--set", "spark.master=local[2]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).matches("loraspace stats: error: Python package '(numpy|torch|transformers)' is missing in "
        + ".* \\(the model worker needs torch, transformers, numpy, safetensors\\)\n");
  }

  @Test
  void nonFiniteModelOutputFailsInOneLineOrIsSkippedAsOnTheCapturePath() throws Exception {
    // llama-nan: NaN in one token's embedding, so inputs (and gradients) go non-finite where that id occurs.
    Cli.Result r = Cli.exec("stats", "--set", "tokens=" + fixtures.resolve("llama-nan/tokens"), "--set",
        "model=" + fixtures.resolve("llama-nan/model"), "--set", "python=" + Repo.python(), "--set", "gradients=on",
        "--set", "out=" + dir.resolve("failed"), "--set", "spark.master=local[2]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).matches("loraspace stats: error: [^\\n]*part-\\d+\\.parquet[^\\n]*: non-finite value in "
        + "(input of site '[^']+'|gradient of '[^']+') at token \\d+ of sample \\d+ of dataset '(plus|minus)' "
        + "\\(model output; set non-finite=skip to drop such tokens\\)\\n");
    assertThat(dir.resolve("failed/store.json")).doesNotExist();

    Path expected = dir.resolve("act-nan");
    Cli.Result c = Cli.exec("stats", "--set", "input=" + fixtures.resolve("llama-nan/activations"), "--set",
        "out=" + expected, "--set", "non-finite=skip", "--set", "spark.master=local[2]");
    assertThat(c.code()).as(c.err()).isZero();
    Path actual = modelStats("llama-nan", "model-nan", "non-finite=skip");
    ModelStoreAssertions.assertSameStore(expected, actual, 1e-12);
    JsonNode me = Manifest.json().readTree(expected.resolve("manifest.json").toFile());
    JsonNode ma = Manifest.json().readTree(actual.resolve("manifest.json").toFile());
    long skipped = ma.path("counts").path("skippedTokens").asLong();
    assertThat(skipped).isPositive().isLessThan(ma.path("counts").path("tokens").asLong());
    assertThat(skipped).isEqualTo(me.path("counts").path("skippedTokens").asLong());
  }

  @Test
  void siteSelectionMatchingNothingNamesTheModelsSites() {
    Cli.Result r = Cli.exec("stats", "--set", "tokens=" + fixtures.resolve("llama-f32/tokens"), "--set",
        "model=" + fixtures.resolve("llama-f32/model"), "--set", "python=" + Repo.python(), "--set",
        "sites=nothing\\.like\\.this", "--set", "out=" + dir.resolve("o"), "--set", "spark.master=local[2]");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace stats: error: Selection datasets=[] sites=[nothing\\.like\\.this] matches "
        + "no rows").contains("model.layers.0.self_attn.in");
  }
}
