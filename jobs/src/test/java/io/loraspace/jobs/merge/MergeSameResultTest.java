package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge job's results do not depend on how the run is shaped: the same input on 1 or 3 cores gives byte-identical
 * reports and merged heads, and the same samples split into 1 or 5 files per dataset give identical margins,
 * accuracies and coefficients (only the worst samples' file names differ).
 */
class MergeSameResultTest {
  @TempDir Path dir;

  @Test
  void oneCoreAndThreeCoresWriteTheSameBytes() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "files=3", "spark.master=local[1]");
    MergeTesting.merge(data, 2, dir.resolve("a"), "grid-size=12", "spark.master=local[1]");
    MergeTesting.merge(data, 2, dir.resolve("b"), "grid-size=12", "spark.master=local[3]",
        "spark.default.parallelism=7");
    assertThat(Files.readString(dir.resolve("b/report.json"))).isEqualTo(Files.readString(dir.resolve("a/report.json")));
    assertThat(Files.readAllBytes(dir.resolve("b/merged/head.safetensors")))
        .isEqualTo(Files.readAllBytes(dir.resolve("a/merged/head.safetensors")));
    assertThat(Files.readAllBytes(dir.resolve("b/merged/adapter/adapter_model.safetensors")))
        .isEqualTo(Files.readAllBytes(dir.resolve("a/merged/adapter/adapter_model.safetensors")));
  }

  @Test
  void splittingTheDataIntoMoreFilesChangesNoNumber() throws Exception {
    Path one = MergeTesting.synth(dir.resolve("one"), "files=1", "spark.master=local[1]");
    Path five = MergeTesting.synth(dir.resolve("five"), "files=5", "spark.master=local[1]");
    JsonNode a = MergeTesting.merge(one, 2, dir.resolve("a"), "grid-size=12", "spark.master=local[1]");
    JsonNode b = MergeTesting.merge(five, 2, dir.resolve("b"), "grid-size=12", "spark.master=local[2]");
    assertThat(b.get("theory")).isEqualTo(a.get("theory"));
    assertThat(b.path("grid").get("unionMargin")).isEqualTo(a.path("grid").get("unionMargin"));
    assertThat(b.path("grid").get("unionAccuracy")).isEqualTo(a.path("grid").get("unionAccuracy"));
    assertThat(b.path("grid").get("margins")).isEqualTo(a.path("grid").get("margins"));
    assertThat(b.get("merged")).isEqualTo(a.get("merged"));
    assertThat(b.path("datasets").get(0).path("files").asInt()).isEqualTo(5);
  }
}
