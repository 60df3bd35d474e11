package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.StandaloneCluster;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job jar, submitted with SparkSubmit to a real standalone master and worker on loopback. */
class StandaloneClusterIT {
  @TempDir Path dir;

  @Test
  void doctorRunsItsTasksInExecutorJvmsSeparateFromTheDriver() throws Exception {
    Path out = dir.resolve("doctor-out");
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "2g")) {
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false"),
          List.of("doctor", "--set", "out=" + out, "--set", "tasks=6", "--set", "gemm-size=128"),
          Map.of("OPENBLAS_CORETYPE", "Haswell"), 240);
      assertThat(s.exitCode).as(s.output).isZero();
      assertThat(s.output).contains("loraspace doctor: done; output at file:" + out);
      JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
      assertThat(report.path("master").asText()).isEqualTo(cluster.masterUrl());
      long driverPid = report.path("driver").path("pid").asLong();
      Set<Long> executorPids = new HashSet<>();
      for (JsonNode t : report.path("tasks")) {
        executorPids.add(t.path("pid").asLong());
        // The driver's OPENBLAS_CORETYPE travels to executors through spark.executorEnv.
        assertThat(t.path("openblasCoretype").asText()).isEqualTo("Haswell");
      }
      assertThat(report.path("tasks")).hasSize(6);
      assertThat(executorPids).isNotEmpty().doesNotContain(driverPid);
      assertThat(report.path("tasksInSeparateJvms").asLong()).isEqualTo(6);
      assertThat(out.resolve("_SUCCESS")).exists();
    }
  }
}
