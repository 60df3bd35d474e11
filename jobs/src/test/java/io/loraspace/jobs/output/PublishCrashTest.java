package io.loraspace.jobs.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.testing.MotoS3;
import io.loraspace.jobs.testing.WritingJob;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the publish: a complete output of run v1 is in place; run v2 (other files, other content) is
 * started in a child JVM, paused at one publish step and killed with SIGKILL there. At that instant the location must
 * hold v1 or v2 complete, or no {@code _SUCCESS}; after the repair every run does first, v1 is back complete (v2 if
 * the kill came after v2's commit point), nothing hidden is left beside it, and a new run publishes v2.
 */
class PublishCrashTest {
  @TempDir java.nio.file.Path dir;

  private static final List<String> V1 = List.of("value=v1", "files=3", "overwrite=true");
  private static final List<String> V2 = List.of("value=v2", "files=4", "nested=true", "overwrite=true");

  /** Steps after which the new output is committed. */
  private static final List<String> AFTER_COMMIT = List.of("success-written", "published");

  @Test
  void killAtEveryStepOfPerFileMovesOnLocalFs() throws Exception {
    List<String> perFile = List.of("spark.hadoop.loraspace.output.rename=per-file");
    // "running" equals "staged" for the location (only staging exists); "old-moved" is covered by the atomic case.
    for (String step : List.of("staged", "journal-written", "success-removed", "moving-old", "moving-new",
        "new-moved", "success-written", "published")) {
      killAndRepair(localFs(), "file://" + dir.resolve("pf-" + step), step, perFile);
    }
  }

  @Test
  void killWhileOutputsAreMovedAsideOrInWithAtomicRenames() throws Exception {
    for (String step : List.of("old-moved", "new-moved")) {
      killAndRepair(localFs(), "file://" + dir.resolve("at-" + step), step, List.of());
    }
  }

  @Test
  void killMidCopyOnS3() throws Exception {
    try (MotoS3 s3 = MotoS3.start(dir)) {
      s3.createBucket("crash");
      Configuration conf = new Configuration();
      s3.hadoopConf().forEach(conf::set);
      FileSystem fs = FileSystem.get(URI.create("s3a://crash/"), conf);
      for (String step : List.of("moving-old", "moving-new")) {
        killAndRepair(fs, "s3a://crash/runs/out-" + step, step, s3.sparkSettings());
      }
    }
  }

  private FileSystem localFs() throws IOException {
    Configuration conf = new Configuration();
    conf.set("fs.file.impl", io.loraspace.jobs.spark.PlainLocalFileSystem.class.getName());
    conf.set("fs.file.impl.disable.cache", "true");
    return FileSystem.get(URI.create("file:///"), conf);
  }

  private void killAndRepair(FileSystem fs, String out, String step, List<String> settings) throws Exception {
    List<String> v1 = with(out, V1, settings);
    List<String> v2 = with(out, V2, settings);
    JobRunner.run(new WritingJob(), WritingJob.options(v1));
    assertComplete(fs, out, "v1", step + " (before)");

    runChildUntilPausedThenKill(v2, step);
    assertCompleteOrUnmarked(fs, out, step);

    OutputCommitter.recover(fs.getConf(), out, 5000);
    assertComplete(fs, out, AFTER_COMMIT.contains(step) ? "v2" : "v1", step + " (after repair)");
    assertThat(hiddenSiblings(fs, out)).as("leftovers after killing at " + step).isEmpty();

    JobRunner.run(new WritingJob(), WritingJob.options(v2));
    assertComplete(fs, out, "v2", step + " (rerun)");
    assertThat(hiddenSiblings(fs, out)).isEmpty();
  }

  private static List<String> with(String out, List<String> params, List<String> settings) {
    List<String> all = new ArrayList<>();
    all.add("out=" + out);
    all.addAll(params);
    all.addAll(settings);
    return all;
  }

  private void runChildUntilPausedThenKill(List<String> args, String step) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "-D" + PublishHook.PAUSE_PROPERTY + "=" + step, WritingJob.class.getName()));
    cmd.addAll(args);
    java.nio.file.Path log = Files.createTempFile(dir, "child-", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    try {
      while (!Files.readString(log).contains("loraspace-test: paused at " + step)) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("child did not pause at " + step + " (alive " + p.isAlive() + "):\n"
              + Files.readString(log));
        }
        Thread.sleep(50);
      }
    } finally {
      p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Relative path → content of every file under {@code out}. */
  private static Map<String, String> files(FileSystem fs, String out) throws IOException {
    Map<String, String> m = new TreeMap<>();
    Path root = fs.makeQualified(new Path(out));
    if (!fs.exists(root)) {
      return m;
    }
    String prefix = root.toUri().getPath();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    while (it.hasNext()) {
      Path p = it.next().getPath();
      try (InputStream in = fs.open(p)) {
        m.put(p.toUri().getPath().substring(prefix.length() + 1), new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return m;
  }

  private static Map<String, String> expected(String value) {
    Map<String, String> m = new TreeMap<>();
    int n = value.equals("v1") ? 3 : 4;
    for (int i = 0; i < n; i++) {
      m.put("part-" + i + ".txt", value + i);
      if (value.equals("v2")) {
        m.put("sub/part-" + i + ".txt", value + "/sub" + i);
      }
    }
    return m;
  }

  private static void assertComplete(FileSystem fs, String out, String value, String when) throws IOException {
    Map<String, String> f = files(fs, out);
    assertThat(f).as(when + ": _SUCCESS").containsKey(OutputCommitter.SUCCESS);
    JsonNode manifest = Manifest.json().readTree(f.get(OutputCommitter.MANIFEST));
    assertThat(manifest.path("parameters").path("value").asText()).as(when).isEqualTo(value);
    f.remove(OutputCommitter.SUCCESS);
    f.remove(OutputCommitter.MANIFEST);
    f.remove(OutputCommitter.MARKER);
    assertThat(f).as(when + ": data files").isEqualTo(expected(value));
  }

  /** The consumer's view at the instant of the kill: complete (v1 or v2, consistent with its manifest) or unmarked. */
  private static void assertCompleteOrUnmarked(FileSystem fs, String out, String step) throws IOException {
    Map<String, String> f = files(fs, out);
    if (f.containsKey(OutputCommitter.SUCCESS)) {
      String value = Manifest.json().readTree(f.get(OutputCommitter.MANIFEST)).path("parameters").path("value")
          .asText();
      assertComplete(fs, out, value, "at the kill at " + step);
    }
  }

  private static List<String> hiddenSiblings(FileSystem fs, String out) throws IOException {
    Path o = fs.makeQualified(new Path(out));
    List<String> names = new ArrayList<>();
    for (FileStatus st : fs.listStatus(o.getParent())) {
      if (st.getPath().getName().startsWith("." + o.getName() + ".")) {
        names.add(st.getPath().getName());
      }
    }
    return names;
  }
}
