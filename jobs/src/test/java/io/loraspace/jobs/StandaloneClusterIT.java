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
  void doctorRunsItsTasksInExecutorJvmsOnTheBundledOpenBlas() throws Exception {
    Path out = dir.resolve("doctor-out");
    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "2g")) {
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false"),
          List.of("doctor", "--set", "out=" + out, "--set", "tasks=6", "--set", "gemm-size=128"), Map.of(), 240);
      assertThat(s.exitCode).as(s.output).isZero();
      assertThat(s.output).contains("loraspace doctor: done; output at file:" + out);
      JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
      System.out.println(report.toPrettyString()); // kept in failsafe-reports/*-output.txt
      assertThat(report.path("master").asText()).isEqualTo(cluster.masterUrl());
      JsonNode driver = report.path("driver");
      long driverPid = driver.path("pid").asLong();
      assertThat(driver.path("blasSource").asText()).as(driver.toString()).isEqualTo("bundled");
      Set<Long> executorPids = new HashSet<>();
      for (JsonNode t : report.path("tasks")) {
        executorPids.add(t.path("pid").asLong());
        // The executor JVMs load the OpenBLAS carried by the job jar (no system library is needed) ...
        assertThat(t.path("blasSource").asText()).as(t.toString()).isEqualTo("bundled");
        assertThat(t.path("blasLibrary").asText()).endsWith("/libopenblas_nolapack.so.0");
        assertThat(t.path("blasVersion").asText()).startsWith("0.3.31 ");
        assertThat(t.path("blasCore").asText()).isNotEmpty().isNotEqualTo("unknown");
        // ... with spark.task.cpus (default 1) threads per call, set by BlasPlugin as each executor starts.
        assertThat(t.path("blasThreads").asInt()).isEqualTo(1);
        assertThat(t.path("dsyrkGflops").asDouble()).isPositive();
      }
      assertThat(report.path("tasks")).hasSize(6);
      assertThat(executorPids).isNotEmpty().doesNotContain(driverPid);
      assertThat(report.path("tasksInSeparateJvms").asLong()).isEqualTo(6);
      assertThat(report.path("allBundledBlas").asBoolean()).isTrue();
      assertThat(out.resolve("_SUCCESS")).exists();
    }
  }
}
