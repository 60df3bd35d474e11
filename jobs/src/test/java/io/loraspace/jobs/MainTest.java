package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.cli.OptionSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsEveryRegisteredJob() {
    assertThat(run("help")).isZero();
    for (String name : Main.registry().all().keySet()) {
      assertThat(stdout()).contains("  " + name + " ");
    }
    assertThat(stdout()).contains("version");
  }

  @Test
  void jobHelpListsEveryOptionWithItsDefault() {
    for (Job job : Main.registry().all().values()) {
      out.reset();
      assertThat(run(job.name(), "--help")).isZero();
      OptionSpec spec = JobRunner.specOf(job);
      for (OptionSpec.Def d : spec.defs().values()) {
        assertThat(stdout()).contains(d.key());
        assertThat(stdout()).contains(d.required() ? "(required)" : "'" + d.defaultText() + "'");
      }
    }
  }

  @Test
  void versionPrintsVersionAndCommit() {
    assertThat(run("version")).isZero();
    assertThat(stdout()).startsWith("loraspace " + BuildInfo.version() + " (git ");
  }

  @Test
  void unknownCommandExitsTwoWithOneLine() {
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(stderr().strip()).startsWith("loraspace: error: unknown command 'frobnicate'").doesNotContain("\n");
  }

  @Test
  void unknownOptionExitsTwoNamingIt() {
    assertThat(run("doctor", "--set", "out=/tmp/x", "--set", "taks=3")).isEqualTo(2);
    assertThat(stderr().strip())
        .isEqualTo("loraspace doctor: error: --set: unknown option 'taks' for job 'doctor' (see: loraspace doctor --help)");
  }

  @Test
  void badOptionValueExitsTwoNamingIt() {
    assertThat(run("doctor", "--set", "out=/tmp/x", "--set", "tasks=0")).isEqualTo(2);
    assertThat(stderr().strip())
        .isEqualTo("loraspace doctor: error: --set: Option 'tasks' has value '0', expected an int in [1, 100000]");
  }

  @Test
  void strayArgumentExitsTwo() {
    assertThat(run("doctor", "out=/tmp/x")).isEqualTo(2);
    assertThat(stderr()).contains("unexpected argument 'out=/tmp/x'");
  }
}
