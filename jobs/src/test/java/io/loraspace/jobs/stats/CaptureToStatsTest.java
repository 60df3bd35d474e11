package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.Repo;
import io.loraspace.jobs.testing.StoreReference;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on the tiny random Llama: the capture hook (checked against an independent forward/backward by
 * check_capture.py) writes the contract, the stats job reads it, and the store equals the statistics numpy computes
 * from the same Parquet bytes.
 */
class CaptureToStatsTest {
  @TempDir Path dir;

  @Test
  void captureHookThenStatsEqualsNumpyOnTheSameParquet() throws Exception {
    Path log = dir.resolve("check.log");
    Process p = new ProcessBuilder(Repo.python().toString(),
        Repo.root().resolve("scripts/capture/check_capture.py").toString(), dir.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(600, TimeUnit.SECONDS)).as("check_capture.py finished").isTrue();
    String output = Files.readString(log);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("check_capture: 168 rows checked against an independent forward/backward");

    Path store = dir.resolve("stats");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.run(new String[] {"stats", "--set", "input=" + dir.resolve("corpus"), "--set", "out=" + store,
        "--set", "spark.master=local[2]"}, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();

    JsonNode expectedCounts = Manifest.json().readTree(dir.resolve("expected.json").toFile()).get("counts");
    JsonNode index = Manifest.json().readTree(store.resolve("store.json").toFile());
    assertThat(index.get("sites")).hasSize(16);
    assertThat(index.get("modules")).hasSize(28);
    int compared = 0;
    try (SafetensorsFile expected = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
      for (String section : List.of("sites", "modules")) {
        for (JsonNode n : index.get(section)) {
          String ds = n.get("dataset").asText();
          String name = n.get(section.equals("sites") ? "site" : "module").asText();
          JsonNode c = expectedCounts.get(ds + "|" + name);
          assertThat(n.get("tokenCount").asLong()).as(name).isEqualTo(c.get("tokens").asLong());
          assertThat(n.get("sampleCount").asLong()).as(name).isEqualTo(c.get("samples").asLong());
          try (SafetensorsFile f = SafetensorsFile.open(store.resolve(n.get("file").asText()))) {
            for (String t : f.tensorNames()) {
              String key = t + "|" + ds + "|" + name;
              if (!expected.contains(key)) {
                continue; // sample_sum has no numpy counterpart in the check script
              }
              assertThat(StoreReference.relErr(f.readDoubles(t), expected.readDoubles(key))).as(key)
                  .isLessThan(1e-10);
              compared++;
            }
            if (section.equals("sites")) {
              assertThat(Double.parseDouble(f.metadata().get("sum_tokens_squared")))
                  .isEqualTo(c.get("sumTokensSquared").asDouble());
            }
          }
        }
      }
    }
    assertThat(compared).isEqualTo(16 * 4 + 28 * 2);
  }
}
