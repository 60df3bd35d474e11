package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.StandaloneCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge job on a real standalone cluster on loopback (executors in their own JVMs: the head decomposition, the
 * projected samples and the margin grids cross the wire): the report and the merged head are byte-identical to the
 * local run's, and the theory's prediction holds at α*. Small on purpose (CI time): 3 tasks, 4 files per dataset.
 */
class MergeOnClusterIT {
  @TempDir Path dir;

  @Test
  void clusterRunWritesTheSameBytesAsTheLocalRun() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "tasks=3", "classes=8", "files=4", "samples-per-class=30",
        "padding=40");
    Path localOut = dir.resolve("merge-local");
    MergeTesting.merge(data, 3, localOut, "grid-size=12", "spark.master=local[2]");
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "2g")) {
      Path out = dir.resolve("merge-cluster");
      List<String> args = MergeTesting.mergeArgs(data, 3, out);
      args.addAll(MergeTesting.sets("grid-size=12"));
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false", "spark.testing.memory=536870912"), args,
          Map.of(), 300, "512m");
      assertThat(s.exitCode).as(s.output).isZero();
      JsonNode m = Manifest.json().readTree(out.resolve("manifest.json").toFile());
      assertThat(m.path("spark").path("master").asText()).isEqualTo(cluster.masterUrl());
      assertThat(Files.readString(out.resolve("report.json"))).isEqualTo(Files.readString(localOut.resolve(
          "report.json")));
      assertThat(Files.readAllBytes(out.resolve("merged/head.safetensors")))
          .isEqualTo(Files.readAllBytes(localOut.resolve("merged/head.safetensors")));
      JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
      assertThat(report.path("assumptionsHold").asBoolean()).isTrue();
      assertThat(report.path("rules").get(0).path("maxPredictionError").asDouble()).isLessThan(1e-10);
      assertThat(report.path("datasets").get(0).path("files").asInt()).isEqualTo(4);
    }
  }
}
