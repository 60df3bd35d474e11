package io.loraspace.jobs.recycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.MotoS3;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recycle job reading its collection from an s3a:// prefix on a local moto_server equals the local run. */
class RecycleS3Test {
  @TempDir Path dir;

  private static int cli(List<String> args, ByteArrayOutputStream err) {
    err.reset();
    return Main.run(args.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void recycleReadsAnS3PrefixAndEqualsTheLocalRun() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path coll = dir.resolve("adapters");
    assertThat(cli(List.of("synth-adapters", "--set", "out=" + coll, "--set", "adapters=6", "--set", "layers=1",
        "--set", "hidden=16", "--set", "kv-dim=8", "--set", "r=4", "--set", "spark.master=local[2]"), err))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    Path local = dir.resolve("local");
    assertThat(cli(List.of("recycle", "--set", "adapters=" + coll, "--set", "out=" + local, "--set", "components=3",
        "--set", "spark.master=local[2]"), err)).as(err.toString(StandardCharsets.UTF_8)).isZero();
    try (MotoS3 s3 = MotoS3.start(dir)) {
      s3.createBucket("adapters");
      Configuration conf = new Configuration();
      s3.hadoopConf().forEach(conf::set);
      FileSystem fs = FileSystem.get(URI.create("s3a://adapters/"), conf);
      try (var files = Files.walk(coll)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String rel = coll.relativize(f).toString();
          try (var out = fs.create(new org.apache.hadoop.fs.Path("s3a://adapters/lol/" + rel))) {
            Files.copy(f, out);
          }
        }
      }
      List<String> args = new ArrayList<>(List.of("recycle", "--set", "adapters=s3a://adapters/lol", "--set",
          "out=" + dir.resolve("from-s3"), "--set", "components=3", "--set", "spark.master=local[2]"));
      for (String s : s3.sparkSettings()) {
        args.add("--set");
        args.add(s);
      }
      assertThat(cli(args, err)).as(err.toString(StandardCharsets.UTF_8)).isZero();
    }
    JsonNode a = Manifest.json().readTree(local.resolve("report.json").toFile());
    JsonNode b = Manifest.json().readTree(dir.resolve("from-s3").resolve("report.json").toFile());
    assertThat(b.get("adapters").asInt()).isEqualTo(6);
    assertThat(b.get("heldOutErrors")).hasSize(a.get("heldOutErrors").size());
    for (int i = 0; i < a.get("heldOutErrors").size(); i++) {
      assertThat(b.get("heldOutErrors").get(i).asDouble())
          .isCloseTo(a.get("heldOutErrors").get(i).asDouble(), org.assertj.core.data.Offset.offset(1e-12));
    }
  }
}
