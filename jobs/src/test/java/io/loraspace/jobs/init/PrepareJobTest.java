package io.loraspace.jobs.init;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.SparkSessions;
import io.loraspace.jobs.testing.Cli;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prepare} = {@code stats} then {@code init} in one run: the same bytes as the two jobs run one after the other,
 * under one output with one manifest and {@code _SUCCESS}; bad input of either half fails before Spark starts.
 */
class PrepareJobTest {
  @TempDir static Path dir;
  private static final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private static Path demo;
  private static final List<String> INIT = List.of("--set", "methods=sc-lora,corda-ipa,corda-kpa,eva,pissa",
      "--set", "r=3", "--set", "lora-alpha=6", "--set", "betas=0,0.5");

  private static String errText() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private static String[] args(List<String> head, List<String> tail) {
    List<String> all = new java.util.ArrayList<>(head);
    all.addAll(tail);
    return all.toArray(new String[0]);
  }

  @BeforeAll
  static void corpusAndBase() {
    demo = dir.resolve("demo");
    assertThat(Cli.run(err, "demo", "--set", "out=" + demo, "--set", "samples=20", "--set", "hidden=16",
        "--set", "gradients=false")).as(errText()).isZero();
  }

  @Test
  void writesTheSameStoreAndAdaptersAsStatsThenInitUnderOneOutput() throws Exception {
    Path out = dir.resolve("prepared");
    assertThat(Cli.run(err, args(List.of("prepare", "--set", "input=" + demo.resolve("corpus"), "--set", "base="
        + demo.resolve("base"), "--set", "out=" + out), INIT))).as(errText()).isZero();
    Path separate = dir.resolve("separate-init");
    assertThat(Cli.run(err, args(List.of("init", "--set", "stats=" + demo.resolve("stats"), "--set", "base="
        + demo.resolve("base"), "--set", "out=" + separate), INIT))).as(errText()).isZero();

    assertThat(out.resolve("_SUCCESS")).exists();
    assertThat(out.resolve("stats/_SUCCESS")).doesNotExist();
    JsonNode manifest = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(manifest.get("job").asText()).isEqualTo("prepare");
    JsonNode demoManifest = Manifest.json().readTree(demo.resolve("manifest.json").toFile());
    int storeFiles = 0;
    for (JsonNode f : demoManifest.get("outputs")) {
      String path = f.get("path").asText();
      if (path.startsWith("stats/")) {
        assertThat(Files.readAllBytes(out.resolve(path))).as(path)
            .isEqualTo(Files.readAllBytes(demo.resolve(path)));
        storeFiles++;
      }
    }
    assertThat(storeFiles).isGreaterThan(2);
    for (String tag : List.of("sc-lora-beta-0", "sc-lora-beta-0.5", "corda-ipa", "corda-kpa", "eva", "pissa")) {
      Path weights = Path.of(tag, "adapter", "adapter_model.safetensors");
      assertThat(Files.readAllBytes(out.resolve("init").resolve(weights))).as(tag)
          .isEqualTo(Files.readAllBytes(separate.resolve(weights)));
    }
  }

  @Test
  void aMissingBaseFailsBeforeSparkStartsAndLeavesNoOutput() {
    int before = SparkSessions.created();
    Path out = dir.resolve("no-base");
    assertThat(Cli.run(err, args(List.of("prepare", "--set", "input=" + demo.resolve("corpus"), "--set", "base="
        + dir.resolve("nothing-here"), "--set", "out=" + out), INIT))).isEqualTo(1);
    assertThat(errText().strip()).startsWith("loraspace prepare: error: ").contains(dir.resolve("nothing-here")
        .toString());
    assertThat(SparkSessions.created()).isEqualTo(before);
    assertThat(out).doesNotExist();
  }

  @Test
  void theStoreIsThisRunsOwnSoOptionStatsIsUnknown() {
    assertThat(Cli.run(err, args(List.of("prepare", "--set", "input=" + demo.resolve("corpus"), "--set", "base="
        + demo.resolve("base"), "--set", "stats=" + demo.resolve("stats"), "--set", "out=" + dir.resolve("x")),
        INIT))).isEqualTo(2);
    assertThat(errText().strip()).isEqualTo("loraspace prepare: error: --set: unknown option 'stats' for job "
        + "'prepare' (see: loraspace prepare --help)");
  }
}
