package io.loraspace.jobs.correct;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.synth.SyntheticAdapters;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.spark.SparkSessions;
import io.loraspace.jobs.testing.CorrectFixture;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad options and inputs of {@code correct} fail before any SparkSession exists, with one line naming them. */
class CorrectBadInputTest {
  @TempDir static Path dir;
  private static final SyntheticAdapters.Spec SPEC = CorrectFixture.spec(2, 16, 8, 2);
  private static final String K = "model.layers.0.self_attn.k_proj";
  private static final String V = "model.layers.0.self_attn.v_proj";

  private record Result(int code, String err) {}

  private static Result run(Path base, Path aligned, Path adapters, String... extra) {
    List<String> args = new ArrayList<>(List.of("correct", "--set", "adapters=" + adapters, "--set", "base=" + base,
        "--set", "aligned=" + aligned, "--set", "out=" + dir.resolve("out"), "--set", "spark.master=local[1]"));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int before = SparkSessions.created();
    int code = Main.run(args.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(SparkSessions.created()).as("Spark sessions started").isEqualTo(before);
    assertThat(dir.resolve("out")).doesNotExist();
    return new Result(code, err.toString(StandardCharsets.UTF_8));
  }

  @BeforeAll
  static void inputs() {
    CorrectFixture.checkpoints(dir.resolve("good"), SPEC, Map.of(), Map.of());
    CorrectFixture.checkpoints(dir.resolve("reshaped"), SPEC, Map.of(K, new int[] {4, 16}), Map.of());
    CorrectFixture.checkpoints(dir.resolve("no-v-base"), SPEC, Map.of(), Map.of("base", V));
    CorrectFixture.checkpoints(dir.resolve("no-v-aligned"), SPEC, Map.of(), Map.of("aligned", V));
    CorrectFixture.adapters(dir.resolve("adapters"), SPEC);
    CorrectFixture.adapters(dir.resolve("other-base"), CorrectFixture.spec(1, 24, 8, 2));
  }

  private static Path good(String which) {
    return dir.resolve("good").resolve(which);
  }

  @Test
  void baseAndAlignedShapesDiffer() {
    Result r = run(good("base"), dir.resolve("reshaped/aligned"), dir.resolve("adapters"));
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err).isEqualTo("loraspace correct: error: Tensor '" + K + ".weight' has shape [8, 16] in base "
        + "checkpoint " + good("base") + " but [4, 16] in aligned checkpoint " + dir.resolve("reshaped/aligned")
        + "\n");
  }

  @Test
  void adapterTrainedOnAnotherBase() {
    Result r = run(good("base"), good("aligned"), dir.resolve("other-base"));
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err).isEqualTo("loraspace correct: error: Adapter file:" + dir.resolve("other-base/adapter-0000")
        + " module '" + K + "' is in→out 24→8 but tensor '" + K + ".weight' of base checkpoint " + good("base")
        + " has shape [8, 16]: was the adapter trained on another base model?\n");
  }

  @Test
  void tauOutsideZeroOne() {
    for (String tau : new String[] {"0", "1.5", "-0.1"}) {
      Result r = run(good("base"), good("aligned"), dir.resolve("adapters"), "csulora-tau=" + tau);
      assertThat(r.code).isEqualTo(2);
      assertThat(r.err).isEqualTo("loraspace correct: error: --set: Option 'csulora-tau' has value '" + tau
          + "', expected a double in (0, 1]\n");
    }
  }

  @Test
  void epsilonNotPositive() {
    for (String eps : new String[] {"0", "-1e-3"}) {
      Result r = run(good("base"), good("aligned"), dir.resolve("adapters"), "csulora-epsilon=" + eps);
      assertThat(r.code).isEqualTo(2);
      assertThat(r.err).isEqualTo("loraspace correct: error: --set: Option 'csulora-epsilon' has value '" + eps
          + "', expected a double > 0\n");
    }
  }

  @Test
  void moduleMissingFromTheBaseCheckpoint() {
    Path base = dir.resolve("no-v-base/base");
    Result r = run(base, good("aligned"), dir.resolve("adapters"));
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err).isEqualTo("loraspace correct: error: Module '" + V + "' (adapter file:"
        + dir.resolve("adapters/adapter-0000") + ") has no weight '" + V + ".weight' in base checkpoint " + base
        + "\n");
  }

  @Test
  void moduleMissingFromTheAlignedCheckpoint() {
    Path aligned = dir.resolve("no-v-aligned/aligned");
    Result r = run(good("base"), aligned, dir.resolve("adapters"));
    assertThat(r.code).isEqualTo(1);
    assertThat(r.err).isEqualTo("loraspace correct: error: Module '" + V + "' (adapter file:"
        + dir.resolve("adapters/adapter-0000") + ") has no weight '" + V + ".weight' in aligned checkpoint "
        + aligned + "\n");
  }

  @Test
  void unknownMethod() {
    Result r = run(good("base"), good("aligned"), dir.resolve("adapters"), "methods=csulora,projection");
    assertThat(r.code).isEqualTo(2);
    assertThat(r.err).isEqualTo("loraspace correct: error: --set: Option 'methods' has value 'csulora,projection', "
        + "expected a non-empty list from [csulora, safelora]\n");
  }
}
