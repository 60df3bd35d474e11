package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.MotoS3;
import io.loraspace.jobs.testing.StoreReference;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stats job reading its corpus from s3a:// and writing its store to s3a:// on a local moto_server. */
class StatsS3Test {
  @TempDir Path dir;

  private static int cli(List<String> args, ByteArrayOutputStream err) {
    return Main.run(args.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void statsReadsAndWritesS3AndEqualsTheLocalRun() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path corpus = dir.resolve("corpus");
    assertThat(cli(List.of("synth-corpus", "--set", "out=" + corpus, "--set", "files=3", "--set", "samples=8",
        "--set", "layers=1", "--set", "hidden=16", "--set", "kv-dim=4", "--set", "intermediate=8", "--set",
        "gradients=true", "--set", "spark.master=local[2]"), err)).as(err.toString(StandardCharsets.UTF_8)).isZero();
    Path localStore = dir.resolve("local");
    assertThat(cli(List.of("stats", "--set", "input=" + corpus, "--set", "out=" + localStore, "--set",
        "spark.master=local[2]"), err)).isZero();

    try (MotoS3 s3 = MotoS3.start(dir)) {
      s3.createBucket("corpora");
      Configuration conf = new Configuration();
      s3.hadoopConf().forEach(conf::set);
      FileSystem fs = FileSystem.get(URI.create("s3a://corpora/"), conf);
      // Upload file by file (s3a's bulk copyFromLocalFile can stall on its upload semaphore).
      try (var files = java.nio.file.Files.list(corpus)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          try (var out = fs.create(new org.apache.hadoop.fs.Path("s3a://corpora/run1/corpus/" + f.getFileName()))) {
            java.nio.file.Files.copy(f, out);
          }
        }
      }

      List<String> args = new ArrayList<>(List.of("stats", "--set", "input=s3a://corpora/run1/corpus", "--set",
          "out=s3a://corpora/run1/stats", "--set", "spark.master=local[2]"));
      for (String s : s3.sparkSettings()) {
        args.add("--set");
        args.add(s);
      }
      err.reset();
      assertThat(cli(args, err)).as(err.toString(StandardCharsets.UTF_8)).isZero();

      Path fetched = dir.resolve("fetched");
      var it = fs.listFiles(new org.apache.hadoop.fs.Path("s3a://corpora/run1/stats"), true);
      String prefix = "s3a://corpora/run1/stats/";
      while (it.hasNext()) {
        org.apache.hadoop.fs.Path p = it.next().getPath();
        Path local = fetched.resolve(p.toString().substring(prefix.length()));
        java.nio.file.Files.createDirectories(local.getParent());
        try (var in = fs.open(p)) {
          java.nio.file.Files.copy(in, local);
        }
      }
      assertThat(fetched.resolve("_SUCCESS")).exists();
      JsonNode m = Manifest.json().readTree(fetched.resolve("manifest.json").toFile());
      assertThat(m.path("inputs").get(0).path("uri").asText()).startsWith("s3a://corpora/run1/corpus/part-");
      JsonNode store = Manifest.json().readTree(localStore.resolve("store.json").toFile());
      assertThat(Manifest.json().readTree(fetched.resolve("store.json").toFile())).isEqualTo(store);
      for (String section : List.of("sites", "modules")) {
        for (JsonNode n : store.get(section)) {
          try (SafetensorsFile a = SafetensorsFile.open(localStore.resolve(n.get("file").asText()));
              SafetensorsFile b = SafetensorsFile.open(fetched.resolve(n.get("file").asText()))) {
            for (String t : a.tensorNames()) {
              assertThat(StoreReference.relErr(b.readDoubles(t), a.readDoubles(t))).isLessThan(1e-12);
            }
          }
        }
      }
    }
  }
}
