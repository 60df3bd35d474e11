package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.StandaloneCluster;
import io.loraspace.jobs.testing.StoreReference;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stats job submitted to a real standalone cluster on loopback (executors in their own JVMs, real shuffles and
 * serialization) against the same job in local mode; and a driver whose heap is smaller than the statistics it
 * produces.
 */
class StatsOnClusterIT {
  @TempDir Path dir;

  private static void local(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
  }

  private static void assertSameStore(Path a, Path b) throws Exception {
    JsonNode sa = Manifest.json().readTree(a.resolve("store.json").toFile());
    JsonNode sb = Manifest.json().readTree(b.resolve("store.json").toFile());
    assertThat(sb).isEqualTo(sa);
    for (String section : List.of("sites", "modules")) {
      for (JsonNode n : sa.get(section)) {
        try (SafetensorsFile fa = SafetensorsFile.open(a.resolve(n.get("file").asText()));
            SafetensorsFile fb = SafetensorsFile.open(b.resolve(n.get("file").asText()))) {
          assertThat(fb.tensorNames()).isEqualTo(fa.tensorNames());
          assertThat(fb.metadata()).isEqualTo(fa.metadata());
          for (String t : fa.tensorNames()) {
            // Merge order differs between runs: equal up to float64 summation order.
            assertThat(StoreReference.relErr(fb.readDoubles(t), fa.readDoubles(t))).as(n.get("file") + ":" + t)
                .isLessThan(1e-12);
          }
        }
      }
    }
  }

  @Test
  void clusterRunEqualsLocalRunAndDriverHeapStaysBelowTheStatistics() throws Exception {
    Path corpus = dir.resolve("corpus");
    local("synth-corpus", "--set", "out=" + corpus, "--set", "files=6", "--set", "samples=16", "--set", "layers=2",
        "--set", "hidden=48", "--set", "kv-dim=16", "--set", "intermediate=40", "--set", "gradients=true",
        "--set", "spark.master=local[2]");
    Path localStore = dir.resolve("stats-local");
    local("stats", "--set", "input=" + corpus, "--set", "out=" + localStore, "--set", "spark.master=local[2]");

    // Wide keys for the memory check: 16 sites of d = 768, 2 × 4.5 MiB of Grams each = 144 MiB of statistics.
    Path wide = dir.resolve("wide");
    local("synth-corpus", "--set", "out=" + wide, "--set", "files=4", "--set", "samples=4", "--set", "layers=8",
        "--set", "hidden=768", "--set", "kv-dim=8", "--set", "intermediate=8", "--set", "min-tokens=4",
        "--set", "max-tokens=8", "--set", "datasets=plus", "--set", "spark.master=local[2]");

    try (StandaloneCluster cluster = StandaloneCluster.start(dir, System.getProperty("loraspace.embeddedClasspath"),
        2, "3g")) {
      Path clusterStore = dir.resolve("stats-cluster");
      StandaloneCluster.Submission s = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false"),
          List.of("stats", "--set", "input=" + corpus, "--set", "out=" + clusterStore), Map.of(), 300);
      assertThat(s.exitCode).as(s.output).isZero();
      assertSameStore(localStore, clusterStore);
      // Not only equal numbers: the same bytes (canonical merge order).
      assertThat(StoreReference.dataHashes(clusterStore)).isEqualTo(StoreReference.dataHashes(localStore));

      // An executor killed (SIGKILL) in the middle of the pass: its tasks and lost shuffle output are recomputed on
      // the executor the worker starts instead, and the store is still the same bytes.
      Path killedStore = dir.resolve("stats-executor-killed");
      StandaloneCluster.Running k = cluster.start(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false",
              "spark.executor.extraJavaOptions=-Dloraspace.test.pass-task-delay-ms=1500"),
          List.of("stats", "--set", "input=" + corpus, "--set", "out=" + killedStore));
      k.awaitOutput("stats: pass 1/1", 180);
      Thread.sleep(2000);
      List<ProcessHandle> executors = cluster.executors();
      assertThat(executors).hasSize(1);
      executors.get(0).destroyForcibly();
      StandaloneCluster.Submission ks = k.await(300);
      assertThat(ks.exitCode).as(ks.output).isZero();
      assertThat(ks.output).contains("Lost executor");
      assertThat(StoreReference.dataHashes(killedStore)).isEqualTo(StoreReference.dataHashes(localStore));

      // Model mode on two executors (one core each): the tiny Llama runs in a model worker per executor, and the
      // store equals the capture path's on the same tokens.
      Path fixtures = dir.resolve("model-fixture");
      Process fx = new ProcessBuilder(io.loraspace.jobs.testing.Repo.python().toString(),
          io.loraspace.jobs.testing.Repo.root().resolve("scripts/python/model_mode_fixture.py").toString(),
          fixtures.toString(), "6", "llama-f32").redirectErrorStream(true)
          .redirectOutput(dir.resolve("fixture.log").toFile()).start();
      assertThat(fx.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(fx.exitValue()).as(java.nio.file.Files.readString(dir.resolve("fixture.log"))).isZero();
      Path captured = dir.resolve("stats-captured");
      local("stats", "--set", "input=" + fixtures.resolve("llama-f32/activations"), "--set", "out=" + captured,
          "--set", "spark.master=local[2]");
      Path modelStore = dir.resolve("stats-model-cluster");
      StandaloneCluster.Submission ms = cluster.submit(System.getProperty("loraspace.jobJar"),
          "io.loraspace.jobs.Main", List.of("spark.executor.memory=1g", "spark.executor.cores=1",
              "spark.ui.enabled=false"),
          List.of("stats", "--set", "tokens=" + fixtures.resolve("llama-f32/tokens"), "--set",
              "model=" + fixtures.resolve("llama-f32/model"), "--set", "gradients=on", "--set",
              "python=" + io.loraspace.jobs.testing.Repo.python(), "--set", "out=" + modelStore), Map.of(), 300);
      assertThat(ms.exitCode).as(ms.output).isZero();
      assertThat(ms.output).as("two executors").contains("executor 1").contains("executor 0");
      io.loraspace.jobs.stats.ModelStoreAssertions.assertSameStore(captured, modelStore, 1e-12);

      // A malformed input file is a data error: its task is not retried although spark.task.maxFailures=4, the job
      // fails at once, and the one-line error is the last line of the output (after Spark's shutdown logging).
      Path bad = dir.resolve("corpus-bad");
      java.nio.file.Files.createDirectories(bad);
      java.nio.file.Files.write(bad.resolve("part-00000.parquet"), "PK\u0003\u0004 not parquet".getBytes(
          StandardCharsets.UTF_8));
      StandaloneCluster.Submission b = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1g", "spark.ui.enabled=false", "spark.task.maxFailures=4"),
          List.of("stats", "--set", "input=" + bad, "--set", "out=" + dir.resolve("stats-bad")), Map.of(), 300);
      assertThat(b.exitCode).as(b.output).isEqualTo(1);
      String[] lines = b.output.strip().split("\n");
      assertThat(lines[lines.length - 1]).startsWith("loraspace stats: error: ")
          .contains(bad.resolve("part-00000.parquet").toString());
      assertThat(b.output).as("no retried attempt").doesNotContainPattern("Starting task \\d+\\.[1-9]");
      assertThat(dir.resolve("stats-bad")).doesNotExist();
      JsonNode m = Manifest.json().readTree(clusterStore.resolve("manifest.json").toFile());
      assertThat(m.path("spark").path("master").asText()).isEqualTo(cluster.masterUrl());

      // The driver JVM gets -Xmx100m. Spark refuses to start a driver under 450 MB of heap unless told its memory
      // size; spark.testing.memory only bypasses that start-up check (the JVM limit stays 100 MB, so a driver that
      // collected the statistics would run out of memory).
      Path wideStore = dir.resolve("stats-wide");
      StandaloneCluster.Submission w = cluster.submit(System.getProperty("loraspace.jobJar"), "io.loraspace.jobs.Main",
          List.of("spark.executor.memory=1500m", "spark.ui.enabled=false", "spark.testing.memory=536870912"),
          List.of("stats", "--set", "input=" + wide, "--set", "out=" + wideStore), Map.of(), 300, "100m");
      assertThat(w.exitCode).as(w.output).isZero();
      JsonNode wm = Manifest.json().readTree(wideStore.resolve("manifest.json").toFile());
      long storeBytes = wm.path("counts").path("storeBytes").asLong();
      long driverMax = wm.path("counts").path("driverMaxHeapBytes").asLong();
      assertThat(wm.path("counts").path("siteKeys").asLong()).isEqualTo(16);
      assertThat(storeBytes).isGreaterThan(140L << 20);
      // The driver's whole heap is smaller than the statistics it produced: they never passed through it.
      assertThat(driverMax).isLessThan(storeBytes);
    }
  }
}
