package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.output.Redaction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fake credential given by each route — {@code --set}, {@code --conf FILE}, {@code spark-submit --conf},
 * {@code spark-defaults.conf}, the AWS environment variable — never appears in any byte of the output or of the
 * driver's log, run under spark-submit in its own JVM.
 */
class RedactionIT {
  @TempDir Path dir;

  @Test
  void secretsFromEveryRouteAreInNoOutputFileAndNoLogLine() throws Exception {
    List<String> secrets = List.of("SETSECRET4711", "CONFFILESECRET4712", "SUBMITSECRET4713", "DEFAULTSSECRET4714",
        "ENVSECRET4715");
    Path confDir = Files.createDirectories(dir.resolve("spark-conf"));
    Files.writeString(confDir.resolve("spark-defaults.conf"),
        "spark.hadoop.fs.s3a.access.key " + secrets.get(3) + "\n");
    Path jobConf = dir.resolve("job.conf");
    Files.writeString(jobConf, "spark.hadoop.fs.s3a.session.token = " + secrets.get(1) + "\n");
    Path out = dir.resolve("doctor");

    String cp = Files.readString(Path.of(System.getProperty("loraspace.embeddedClasspath"))).trim();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-cp", cp, "org.apache.spark.deploy.SparkSubmit", "--master", "local[1]",
        "--conf", "spark.hadoop.fs.s3a.secret.key=" + secrets.get(2), "--conf", "spark.ui.enabled=false",
        "--class", "io.loraspace.jobs.Main", System.getProperty("loraspace.jobJar"),
        "doctor", "--conf", jobConf.toString(), "--set", "spark.hadoop.my.password=" + secrets.get(0),
        "--set", "out=" + out, "--set", "tasks=1", "--set", "gemm-size=64"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SPARK_CONF_DIR", confDir.toString());
    pb.environment().put("AWS_SECRET_ACCESS_KEY", secrets.get(4));
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Path log = dir.resolve("driver.log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    String logText = Files.readString(log);
    assertThat(p.exitValue()).as(logText).isZero();

    // The settings were really in effect (recorded, redacted) and the routes were really taken.
    JsonNode m = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(m.path("spark").path("spark.hadoop.my.password").asText()).isEqualTo(Redaction.REDACTED);
    assertThat(m.path("spark").path("spark.hadoop.fs.s3a.session.token").asText()).isEqualTo(Redaction.REDACTED);
    assertThat(m.path("parameterSources").path("out").asText()).isEqualTo("command_line");

    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(out)) {
      s.filter(Files::isRegularFile).forEach(files::add);
    }
    files.add(log);
    assertThat(files).hasSizeGreaterThan(3);
    for (Path f : files) {
      String text = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
      for (String secret : secrets) {
        assertThat(text).as(f + " must not contain " + secret).doesNotContain(secret);
      }
    }
  }
}
