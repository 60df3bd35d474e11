package io.loraspace.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptionResolverTest {
  private static final OptionSpec SPEC = OptionSpec.builder()
      .option("name", OptionType.STRING, "alpha", "a name")
      .intOption("count", 3, 0, 100, "a count")
      .option("betas", OptionType.DOUBLE_LIST, "0,0.5", "betas")
      .option("flag", OptionType.BOOLEAN, "false", "a flag")
      .longOption("budget", 1024, 1, Long.MAX_VALUE, "bytes")
      .option("needed", OptionType.STRING, null, "a required option")
      .build();

  @TempDir Path dir;

  private OptionResolver resolver() {
    return new OptionResolver("stats", SPEC, Set.of("stats", "init"));
  }

  private Path conf(String text) throws Exception {
    Path p = dir.resolve("job.conf");
    Files.writeString(p, text);
    return p;
  }

  @Test
  void commandLineWinsOverConfWhichWinsOverDefault() throws Exception {
    Path c = conf("# comment\ncount = 7\nname = fromconf\nneeded = x\n");
    Options o = resolver().resolve(List.of(c), List.of("count=9"));
    assertThat(o.getInt("count")).isEqualTo(9);
    assertThat(o.source("count")).isEqualTo(Options.Source.COMMAND_LINE);
    assertThat(o.getString("name")).isEqualTo("fromconf");
    assertThat(o.source("name")).isEqualTo(Options.Source.CONF);
    assertThat(o.getDoubleList("betas")).containsExactly(0.0, 0.5);
    assertThat(o.source("betas")).isEqualTo(Options.Source.DEFAULT);
  }

  @Test
  void laterConfFilesOverrideEarlierOnes() throws Exception {
    Path a = dir.resolve("a.conf");
    Path b = dir.resolve("b.conf");
    Files.writeString(a, "count = 1\nneeded = x\n");
    Files.writeString(b, "count = 2\n");
    assertThat(resolver().resolve(List.of(a, b), List.of()).getInt("count")).isEqualTo(2);
  }

  @Test
  void jobPrefixedKeysApplyAndOtherJobsKeysAreIgnored() throws Exception {
    Path c = conf("stats.count = 5\ninit.rank = 8\nneeded = x\n");
    Options o = resolver().resolve(List.of(c), List.of());
    assertThat(o.getInt("count")).isEqualTo(5);
  }

  @Test
  void sparkKeysPassThrough() throws Exception {
    Options o = resolver().resolve(List.of(conf("spark.executor.memory = 4g\n")),
        List.of("needed=x", "spark.master=local[2]"));
    assertThat(o.sparkConf()).containsEntry("spark.executor.memory", "4g").containsEntry("spark.master", "local[2]");
  }

  @Test
  void unknownKeyInConfFailsNamingKeyFileAndLine() throws Exception {
    Path c = conf("count = 1\n\ncuont = 2\n");
    assertThatThrownBy(() -> resolver().resolve(List.of(c), List.of("needed=x")))
        .isInstanceOf(ArgumentException.class)
        .hasMessage(c + ":3: unknown option 'cuont' for job 'stats' (see: loraspace stats --help)");
  }

  @Test
  void unknownKeyOnCommandLineFails() {
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "nope=1")))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("--set: unknown option 'nope' for job 'stats' (see: loraspace stats --help)");
  }

  @Test
  void badValueFailsNamingKeyValueAndType() {
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "count=many")))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("--set: Option 'count' has value 'many', expected int");
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "count=101")))
        .hasMessage("--set: Option 'count' has value '101', expected an int in [0, 100]");
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "flag=maybe")))
        .hasMessage("--set: Option 'flag' has value 'maybe', expected boolean");
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "betas=0.1,,0.2")))
        .hasMessage("--set: Option 'betas' has value '0.1,,0.2', expected comma-separated doubles");
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("needed=x", "betas=0.1,NaN")))
        .hasMessage("--set: Option 'betas' has value '0.1,NaN', expected comma-separated doubles");
  }

  @Test
  void badValueInConfNamesFileAndLine() throws Exception {
    Path c = conf("count = -1\n");
    assertThatThrownBy(() -> resolver().resolve(List.of(c), List.of("needed=x")))
        .hasMessage(c + ":1: Option 'count' has value '-1', expected an int in [0, 100]");
  }

  @Test
  void sizeSuffixesParse() {
    Options o = resolver().resolve(List.of(), List.of("needed=x", "budget=64m"));
    assertThat(o.getLong("budget")).isEqualTo(64L << 20);
  }

  @Test
  void missingRequiredOptionFailsNamingIt() {
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of()))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Option 'needed' is required (a required option): set it in a conf file or with --set needed=...");
  }

  @Test
  void malformedLinesFail() throws Exception {
    Path c = conf("just words\n");
    assertThatThrownBy(() -> resolver().resolve(List.of(c), List.of()))
        .hasMessage(c + ":1: line 'just words' is not of the form key = value");
    assertThatThrownBy(() -> resolver().resolve(List.of(), List.of("count")))
        .hasMessage("--set 'count' is not of the form key=value");
  }

  @Test
  void missingConfFileFailsNamingIt() {
    Path missing = dir.resolve("missing.conf");
    assertThatThrownBy(() -> resolver().resolve(List.of(missing), List.of()))
        .hasMessage("Conf file '" + missing + "' does not exist");
  }
}
