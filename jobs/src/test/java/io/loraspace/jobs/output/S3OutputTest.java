package io.loraspace.jobs.output;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.Main;
import io.loraspace.jobs.testing.MotoS3;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output protocol on s3a:// against a real S3-compatible server (moto_server on loopback). */
class S3OutputTest {
  @TempDir Path dir;

  private static int runCli(List<String> args, ByteArrayOutputStream err) {
    return Main.run(args.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void jobPublishesToS3WithManifestAndSuccessAndLeavesNoStaging() throws Exception {
    try (MotoS3 s3 = MotoS3.start(dir)) {
      s3.createBucket("lake");
      List<String> args = new ArrayList<>(List.of("doctor", "--set", "out=s3a://lake/runs/doctor", "--set",
          "tasks=2", "--set", "gemm-size=64", "--set", "spark.master=local[2]"));
      for (String s : s3.sparkSettings()) {
        args.add("--set");
        args.add(s);
      }
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      assertThat(runCli(args, err)).as(err.toString(StandardCharsets.UTF_8)).isZero();

      Configuration conf = new Configuration();
      s3.hadoopConf().forEach(conf::set);
      FileSystem fs = FileSystem.get(URI.create("s3a://lake/"), conf);
      List<String> names = new ArrayList<>();
      for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path("s3a://lake/runs/doctor"))) {
        names.add(st.getPath().getName());
      }
      assertThat(names).containsExactlyInAnyOrder("_SUCCESS", "manifest.json", "report.json", "_loraspace_output");
      List<String> siblings = new ArrayList<>();
      for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path("s3a://lake/runs"))) {
        siblings.add(st.getPath().getName());
      }
      assertThat(siblings).as("staging removed after publish").containsExactly("doctor");

      // A re-run with the same parameters is idempotent on S3 too.
      err.reset();
      assertThat(runCli(args, err)).as(err.toString(StandardCharsets.UTF_8)).isZero();
      assertThat(fs.exists(new org.apache.hadoop.fs.Path("s3a://lake/runs/doctor/_SUCCESS"))).isTrue();
    }
  }
}
