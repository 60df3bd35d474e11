package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.synth.SyntheticAdapters;
import io.loraspace.jobs.spark.SparkSessions;
import io.loraspace.jobs.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad options and bad inputs that can be seen without Spark fail before any SparkSession exists, with one line naming
 * what is wrong (seconds, not the half minute a session start costs).
 */
class FailFastTest {
  @TempDir Path dir;

  private static Cli.Result run(String... args) {
    int before = SparkSessions.created();
    Cli.Result r = Cli.exec(args);
    assertThat(SparkSessions.created()).as("Spark sessions started for " + String.join(" ", args)).isEqualTo(before);
    return r;
  }

  @Test
  void unknownInitMethodFailsBeforeSpark() {
    Cli.Result r = run("init", "--set", "stats=" + dir, "--set", "base=" + dir, "--set", "out=" + dir.resolve("o"),
        "--set", "methods=sc-lora,bogus");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace init: error: ").contains("'bogus'");
  }

  @Test
  void missingRequiredOptionFailsBeforeSpark() {
    // 'stats' is required by every method but PiSSA (a conditional requirement, checked like stats' own 'input'
    // or 'tokens' + 'model': exit 1); 'base' is required outright (a usage error: exit 2).
    Cli.Result r = run("init", "--set", "base=" + dir, "--set", "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace init: error: Option 'stats' is required by method sc-lora (a statistics "
        + "store written by the stats job; only pissa needs none): set it in the conf file or with --set stats=...\n");
    r = run("init", "--set", "stats=" + dir, "--set", "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("loraspace init: error: ").contains("'base'");
  }

  @Test
  void statsWithoutInputOrTokensFailsBeforeSpark() {
    Cli.Result r = run("stats", "--set", "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace stats: error: Give option 'input' (activation Parquet) or options "
        + "'tokens' and 'model' (model mode)\n");
  }

  @Test
  void emptyInputDirectoryFailsBeforeSpark() throws Exception {
    Files.createDirectories(dir.resolve("empty"));
    Cli.Result r = run("stats", "--set", "input=" + dir.resolve("empty"), "--set", "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("loraspace stats: error: Input '" + dir.resolve("empty")
        + "' holds no .parquet files\n");
    assertThat(dir.resolve("o")).doesNotExist();
  }

  @Test
  void missingInitStoreFailsBeforeSpark() {
    Cli.Result r = run("init", "--set", "stats=" + dir.resolve("nostore"), "--set", "base=" + dir, "--set",
        "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace init: error: ").contains(dir.resolve("nostore").toString());
  }

  @Test
  void moreComponentsThanTheCollectionHasFailsBeforeSpark() {
    SyntheticAdapters.Spec spec = new SyntheticAdapters.Spec();
    spec.adapters = 3;
    spec.hidden = 16;
    spec.kvDim = 8;
    spec.r = 2;
    spec.rMin = 2;
    spec.sharedRank = 1;
    spec.layers = 1;
    for (int i = 0; i < spec.adapters; i++) {
      AdapterDirectory.write(dir.resolve("col/a" + i), SyntheticAdapters.adapter(spec, i), Dtype.F32, false);
    }
    Cli.Result r = run("recycle", "--set", "adapters=" + dir.resolve("col"), "--set", "components=50", "--set",
        "out=" + dir.resolve("o"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace recycle: error: K = 50 components for module '")
        .contains("at most 5 components exist");
  }

  @Test
  void completeOutputOfOtherParametersIsRefusedBeforeSpark() throws Exception {
    Path out = dir.resolve("o");
    Files.createDirectories(out);
    Files.writeString(out.resolve("manifest.json"), "{\"job\":\"stats\",\"fingerprint\":\"0123456789abcdef\"}");
    Files.writeString(out.resolve("_SUCCESS"), "");
    Files.createDirectories(dir.resolve("in"));
    Cli.Result r = run("stats", "--set", "input=" + dir.resolve("in"), "--set", "out=" + out);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("loraspace stats: error: Output '" + out + "' holds a complete result of job "
        + "'stats' with other parameters (fingerprint 0123456789ab, this run ");
  }
}
