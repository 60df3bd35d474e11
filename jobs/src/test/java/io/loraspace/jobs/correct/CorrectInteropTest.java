package io.loraspace.jobs.correct;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.PythonScript;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/python/correct_check.py}: HF transformers writes the tiny Llama's base (F32, sharded) and aligned
 * (BF16) checkpoints and HF PEFT three adapters (plain, rsLoRA, rank/alpha patterns); {@code correct} runs both
 * methods; PEFT loads every corrected adapter and its delta weights equal a dense numpy CSULoRA, its SafeLoRA factors
 * the PR #2201 formulas.
 */
class CorrectInteropTest {
  @TempDir Path dir;

  private void python(String... args) throws Exception {
    String out = PythonScript.run(dir, 600, "correct_check.py", args);
    if (args[0].equals("check")) {
      assertThat(out).contains("correct_check: 0 failed").contains("ok   plain csulora: LoRA layers loaded: 14 of 14")
          .contains("ok   patterns csulora: LoRA layers loaded: 6 of 6").contains("k = [3]");
    }
  }

  @Test
  void correctedAdaptersLoadInPeftWithTheExpectedDeltaWeights() throws Exception {
    python("fixture", dir.toString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path out = dir.resolve("out");
    int rc = Cli.run(err, "correct", "--set", "adapters=" + dir.resolve("adapters"), "--set",
        "base=" + dir.resolve("base"), "--set", "aligned=" + dir.resolve("aligned"), "--set",
        "methods=csulora,safelora", "--set", "out=" + out);
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    python("check", dir.toString(), out.toString());
  }
}
