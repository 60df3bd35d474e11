package io.loraspace.jobs.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.StateException;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.testing.WritingJob;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One run per output location: live holders are refused, dead ones taken over and their leftovers removed. */
class OutputLeaseTest {
  @TempDir Path dir;

  private List<String> hidden() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).sorted()
          .collect(Collectors.toList());
    }
  }

  private static String lease(String runId, String host, long seq) {
    return "{\"format\":\"loraspace-lease\",\"runId\":\"" + runId + "\",\"host\":\"" + host + "\",\"bootId\":\"b\","
        + "\"pid\":1,\"started\":\"2026-01-01T00:00:00Z\",\"seq\":" + seq + "}";
  }

  @Test
  void liveRunIsRefusedUntouchedAndItsLeftoversGoOnceItIsKilled() throws Exception {
    Path out = dir.resolve("out");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), "-D" + PublishHook.PAUSE_PROPERTY + "=running",
        WritingJob.class.getName(), "out=" + out, "value=child"));
    Path log = dir.resolve("child.log");
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.readString(log).contains("loraspace-test: paused at running")) {
        assertThat(child.isAlive() && System.nanoTime() < deadline).as(Files.readString(log)).isTrue();
        Thread.sleep(50);
      }
      List<String> childLeftovers = hidden();
      assertThat(childLeftovers).anyMatch(n -> n.startsWith(".out.loraspace-tmp-")).contains(".out.loraspace-lease");

      assertThatThrownBy(() -> JobRunner.run(new WritingJob(), WritingJob.options(List.of("out=" + out))))
          .isInstanceOf(StateException.class)
          .hasMessageContaining("Output 'file:" + out + "' is being written by another run (run ")
          .hasMessageContaining(", pid " + child.pid() + ", started ")
          .hasMessageContaining("one run per output location at a time");
      // A run on a sibling output in the same directory leaves the live run's files alone.
      JobRunner.run(new WritingJob(), WritingJob.options(List.of("out=" + dir.resolve("other"))));
      assertThat(hidden()).isEqualTo(childLeftovers);
      assertThat(out).doesNotExist();
    } finally {
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
    // The holder is dead (its process is gone): the next run takes over and removes its staging.
    JobRunner.run(new WritingJob(), WritingJob.options(List.of("out=" + out)));
    assertThat(out.resolve("_SUCCESS")).exists();
    assertThat(hidden()).isEmpty();
  }

  @Test
  void silentLeaseFromAnotherMachineIsTakenOverAfterTheTimeout() throws Exception {
    Path out = dir.resolve("out");
    Files.writeString(dir.resolve(".out.loraspace-lease"), lease("remote-1", "elsewhere", 7));
    Files.createDirectories(dir.resolve(".out.loraspace-tmp-remote-1"));
    Files.writeString(dir.resolve(".out.loraspace-tmp-remote-1/part-0.txt"), "orphan");
    JobRunner.run(new WritingJob(), WritingJob.options(List.of("out=" + out, "lease-timeout=1")));
    assertThat(out.resolve("part-0.txt")).hasContent("v10");
    assertThat(hidden()).isEmpty();
  }

  @Test
  void beatingLeaseFromAnotherMachineIsRefused() throws Exception {
    Path out = dir.resolve("out");
    Path leaseFile = dir.resolve(".out.loraspace-lease");
    Files.writeString(leaseFile, lease("remote-2", "elsewhere", 0));
    AtomicBoolean stop = new AtomicBoolean();
    Thread beat = new Thread(() -> {
      for (long seq = 1; !stop.get(); seq++) {
        try {
          Files.writeString(leaseFile, lease("remote-2", "elsewhere", seq));
          Thread.sleep(100);
        } catch (Exception e) {
          return;
        }
      }
    });
    beat.start();
    try {
      assertThatThrownBy(() -> JobRunner.run(new WritingJob(), WritingJob.options(List.of("out=" + out,
          "lease-timeout=3"))))
          .isInstanceOf(StateException.class)
          .hasMessageContaining("is being written by another run (run remote-2 on elsewhere, pid 1")
          .hasMessageEndingWith("counts as expired after 3 s without a heartbeat");
    } finally {
      stop.set(true);
      beat.join();
    }
    assertThat(out).doesNotExist();
  }

  @Test
  void runThatLostItsLeaseDoesNotPublish() throws Exception {
    Configuration conf = new Configuration();
    conf.set("fs.file.impl", io.loraspace.jobs.spark.PlainLocalFileSystem.class.getName());
    conf.set("fs.file.impl.disable.cache", "true");
    FileSystem fs = FileSystem.get(URI.create("file:///"), conf);
    org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path("file://" + dir.resolve("out"));
    try (OutputLease lease = OutputLease.acquire(fs, out, "mine", 60_000)) {
      lease.checkHeld();
      Files.writeString(dir.resolve(".out.loraspace-lease"), lease("thief", "elsewhere", 0), StandardCharsets.UTF_8);
      assertThatThrownBy(lease::checkHeld).isInstanceOf(StateException.class)
          .hasMessageStartingWith("Run mine lost its lease on '")
          .hasMessageEndingWith("to run thief on elsewhere, pid 1, started 2026-01-01T00:00:00Z; not publishing");
    }
    // Closing does not delete a lease that is no longer ours.
    assertThat(dir.resolve(".out.loraspace-lease")).exists();
  }
}
