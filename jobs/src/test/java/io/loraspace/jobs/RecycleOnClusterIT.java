package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
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
 * The recycle job on a real standalone cluster on loopback, with a driver JVM whose whole heap (100 MB) is smaller
 * than the collection's factors (~240 MB as float64): the driver holds headers and summaries only. The held-out errors
 * equal the local run's.
 */
class RecycleOnClusterIT {
  @TempDir Path dir;

  private static void local(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
  }

  @Test
  void driverHeapStaysBelowTheCollectionAndResultsEqualTheLocalRun() throws Exception {
    Path coll = dir.resolve("adapters");
    local("synth-adapters", "--set", "out=" + coll, "--set", "adapters=400", "--set", "layers=1", "--set",
        "hidden=1024", "--set", "kv-dim=256", "--set", "r=16", "--set", "spark.master=local[2]");
    long bytes;
    try (var files = Files.walk(coll)) {
      bytes = files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).mapToLong(p -> p.toFile()
          .length()).sum();
    }
    assertThat(bytes).isGreaterThan(110L << 20); // F32 on disk; twice that as float64 in memory
    Path localOut = dir.resolve("recycle-local");
    local("recycle", "--set", "adapters=" + coll, "--set", "out=" + localOut, "--set", "components=8",
        "--set", "spark.master=local[2]");
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "3g")) {
      Path out = dir.resolve("recycle-cluster");
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1500m", "spark.ui.enabled=false", "spark.testing.memory=536870912"),
          List.of("recycle", "--set", "adapters=" + coll, "--set", "out=" + out, "--set", "components=8"), Map.of(),
          420, "100m");
      assertThat(s.exitCode).as(s.output).isZero();
      JsonNode m = Manifest.json().readTree(out.resolve("manifest.json").toFile());
      assertThat(m.path("spark").path("master").asText()).isEqualTo(cluster.masterUrl());
      long driverMax = m.path("counts").path("driverMaxHeapBytes").asLong();
      assertThat(driverMax).isLessThan(bytes);
      // Every data file is the same bytes (reports hold timings and are left out).
      java.util.Map<String, String> clusterFiles = io.loraspace.jobs.testing.StoreReference.dataHashes(out);
      java.util.Map<String, String> localFiles = io.loraspace.jobs.testing.StoreReference.dataHashes(localOut);
      clusterFiles.keySet().removeIf(k -> k.startsWith("report."));
      localFiles.keySet().removeIf(k -> k.startsWith("report."));
      assertThat(clusterFiles).containsKey("loadings/part-00000.snappy.parquet").containsKey("errors/part-00000"
          + ".snappy.parquet").isEqualTo(localFiles);
      JsonNode a = Manifest.json().readTree(localOut.resolve("report.json").toFile());
      JsonNode b = Manifest.json().readTree(out.resolve("report.json").toFile());
      assertThat(b.get("heldOutErrors")).hasSize(400 * 3 * 2);
      for (int i = 0; i < a.get("heldOutErrors").size(); i++) {
        assertThat(b.get("heldOutErrors").get(i).asDouble()).isCloseTo(a.get("heldOutErrors").get(i).asDouble(),
            org.assertj.core.data.Offset.offset(1e-9));
      }
    }
  }
}
