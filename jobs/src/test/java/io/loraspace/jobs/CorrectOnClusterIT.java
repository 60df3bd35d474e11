package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.synth.SyntheticAdapters;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.CorrectFixture;
import io.loraspace.jobs.testing.StandaloneCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collection of adapters corrected in one job on a real standalone cluster on loopback (executors in their own
 * JVMs): each module's subspace is computed once for all adapters, and every written adapter file is byte-identical
 * to the local run's.
 */
class CorrectOnClusterIT {
  @TempDir Path dir;

  @Test
  void collectionCorrectedOnTheClusterEqualsTheLocalRun() throws Exception {
    SyntheticAdapters.Spec spec = CorrectFixture.spec(8, 64, 32, 8);
    spec.layers = 2;
    CorrectFixture.checkpoints(dir, spec, Map.of(), Map.of());
    CorrectFixture.adapters(dir.resolve("adapters"), spec);
    List<String> args = List.of("correct", "--set", "adapters=" + dir.resolve("adapters"), "--set",
        "base=" + dir.resolve("base"), "--set", "aligned=" + dir.resolve("aligned"), "--set",
        "methods=csulora,safelora");
    Path localOut = dir.resolve("local");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] local = new java.util.ArrayList<String>(args) {
      {
        add("--set");
        add("out=" + localOut);
        add("--set");
        add("spark.master=local[2]");
      }
    }.toArray(new String[0]);
    assertThat(Main.run(local, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8))).as(err.toString(StandardCharsets.UTF_8)).isZero();
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "2g")) {
      Path out = dir.resolve("cluster");
      List<String> remote = new java.util.ArrayList<>(args);
      remote.addAll(List.of("--set", "out=" + out));
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false"), remote, Map.of(), 300, "512m");
      assertThat(s.exitCode).as(s.output).isZero();
      JsonNode m = Manifest.json().readTree(out.resolve("manifest.json").toFile());
      assertThat(m.path("spark").path("master").asText()).isEqualTo(cluster.masterUrl());
      assertThat(m.path("counts").path("subspaces").asInt()).isEqualTo(spec.modules().size());
      assertThat(m.path("counts").path("moduleCorrections").asInt()).isEqualTo(8 * 6 * 2);
      for (String method : List.of("csulora", "safelora")) {
        for (int i = 0; i < spec.adapters; i++) {
          Path rel = Path.of(method, String.format("adapter-%04d", i), "adapter_model.safetensors");
          assertThat(Files.readAllBytes(out.resolve(rel))).as(rel.toString())
              .isEqualTo(Files.readAllBytes(localOut.resolve(rel)));
        }
      }
    }
  }
}
