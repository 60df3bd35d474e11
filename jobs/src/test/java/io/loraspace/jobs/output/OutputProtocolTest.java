package io.loraspace.jobs.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.testing.WritingJob;
import io.loraspace.jobs.cli.Options;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output protocol end to end with a job that needs no Spark: publish, idempotent re-run, failures. */
class OutputProtocolTest {
  @TempDir Path dir;

  private Options options(Path out, String... sets) {
    List<String> all = new ArrayList<>(List.of("out=" + out));
    all.addAll(List.of(sets));
    return WritingJob.options(all);
  }

  private List<String> listing(Path p) throws IOException {
    try (Stream<Path> s = Files.list(p)) {
      return s.map(x -> x.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private JsonNode manifest(Path out) throws IOException {
    return Manifest.json().readTree(out.resolve("manifest.json").toFile());
  }

  @Test
  void successfulRunPublishesFilesManifestAndSuccessMarker() throws Exception {
    Path out = dir.resolve("out");
    JobRunner.run(new WritingJob(), options(out));
    assertThat(listing(out)).containsExactly("_SUCCESS", "_loraspace_output", "manifest.json", "part-0.txt",
        "part-1.txt", "part-2.txt");
    JsonNode m = manifest(out);
    assertThat(m.path("format").asText()).isEqualTo("loraspace-manifest");
    assertThat(m.path("job").asText()).isEqualTo("write-test");
    assertThat(m.path("parameters").path("value").asText()).isEqualTo("v1");
    assertThat(m.path("parameterSources").path("value").asText()).isEqualTo("default");
    assertThat(m.path("counts").path("files").asLong()).isEqualTo(3);
    assertThat(m.path("inputs").get(0).path("uri").asText()).isEqualTo("memory://test");
    assertThat(m.path("versions").path("gitCommit").asText()).isNotEmpty();
    assertThat(m.path("timings").has("total")).isTrue();
    JsonNode outputs = m.path("outputs");
    assertThat(outputs).hasSize(4);
    assertThat(outputs.get(1).path("path").asText()).isEqualTo("part-0.txt");
    assertThat(outputs.get(1).path("bytes").asLong()).isEqualTo(3);
    // sha256("v10")
    assertThat(outputs.get(1).path("sha256").asText())
        .isEqualTo(sha256Hex("v10".getBytes(StandardCharsets.UTF_8)));
    // Nothing left next to the output.
    assertThat(listing(dir)).containsExactly("out");
  }

  @Test
  void failedRunOnEmptyLocationLeavesNothing() {
    Path out = dir.resolve("out");
    assertThatThrownBy(() -> JobRunner.run(new WritingJob(), options(out, "fail-after=2")))
        .isInstanceOf(FormatException.class).hasMessage("Input 'in.parquet' row 7: bad block");
    assertThat(dir.toFile().list()).isEmpty();
  }

  @Test
  void failedRunLeavesEarlierCompleteOutputUntouched() throws Exception {
    Path out = dir.resolve("out");
    JobRunner.run(new WritingJob(), options(out));
    String before = Files.readString(out.resolve("manifest.json"));
    // overwrite=true lets the run start; it fails midway, and the earlier output must survive intact.
    assertThatThrownBy(() -> JobRunner.run(new WritingJob(), options(out, "fail-after=1", "overwrite=true",
        "value=other")))
        .isInstanceOf(FormatException.class);
    assertThat(Files.readString(out.resolve("manifest.json"))).isEqualTo(before);
    assertThat(Files.readString(out.resolve("part-2.txt"))).isEqualTo("v12");
    assertThat(out.resolve("_SUCCESS")).exists();
    assertThat(listing(dir)).containsExactly("out");
  }

  @Test
  void rerunWithSameParametersReplacesWithIdenticalFiles() throws Exception {
    Path out = dir.resolve("out");
    JobRunner.run(new WritingJob(), options(out));
    JsonNode first = manifest(out);
    JobRunner.run(new WritingJob(), options(out));
    JsonNode second = manifest(out);
    assertThat(second.path("runId").asText()).isNotEqualTo(first.path("runId").asText());
    assertThat(second.path("fingerprint")).isEqualTo(first.path("fingerprint"));
    assertThat(second.path("outputs")).isEqualTo(first.path("outputs"));
    assertThat(listing(dir)).containsExactly("out");
  }

  @Test
  void completeOutputOfOtherParametersIsProtectedUnlessOverwrite() throws Exception {
    Path out = dir.resolve("out");
    JobRunner.run(new WritingJob(), options(out));
    assertThatThrownBy(() -> JobRunner.run(new WritingJob(), options(out, "value=v2")))
        .isInstanceOf(StateException.class)
        .hasMessageStartingWith("Output '" + out + "' holds a complete result of job 'write-test' with other "
            + "parameters")
        .hasMessageEndingWith("pass --set overwrite=true to replace it");
    assertThat(Files.readString(out.resolve("part-0.txt"))).isEqualTo("v10");
    JobRunner.run(new WritingJob(), options(out, "value=v2", "overwrite=true", "files=2"));
    assertThat(listing(out)).containsExactly("_SUCCESS", "_loraspace_output", "manifest.json", "part-0.txt",
        "part-1.txt");
    assertThat(Files.readString(out.resolve("part-0.txt"))).isEqualTo("v20");
  }

  @Test
  void foreignDirectoryIsRefused() throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve("precious.txt"), "keep me");
    assertThatThrownBy(() -> JobRunner.run(new WritingJob(), options(out)))
        .isInstanceOf(StateException.class)
        .hasMessage("Output '" + out + "' is a non-empty directory that is not a loraspace output; pass --set "
            + "overwrite=true to replace it");
    assertThat(out.resolve("precious.txt")).hasContent("keep me");
  }

  @Test
  void incompleteEarlierRunIsReplaced() throws Exception {
    Path out = dir.resolve("out");
    JobRunner.run(new WritingJob(), options(out));
    Files.delete(out.resolve("_SUCCESS")); // as if the earlier run died before its last step
    JobRunner.run(new WritingJob(), options(out, "value=v3"));
    assertThat(out.resolve("_SUCCESS")).exists();
    assertThat(Files.readString(out.resolve("part-0.txt"))).isEqualTo("v30");
  }

  private static String sha256Hex(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }
}
