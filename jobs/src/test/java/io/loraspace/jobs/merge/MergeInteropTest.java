package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.PythonScript;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/python/merge_check.py}: HF transformers writes a tiny LlamaForSequenceClassification (head
 * {@code score.weight}), HF PEFT two adapters on the head (r 4 float32; r 2 rsLoRA bfloat16) and pyarrow the model's
 * own last-token features; {@code merge} runs with explicit coefficients; PEFT loads the merged adapter on the base
 * model and its effective head, the merged head file and PEFT's logits equal the numpy merge of the adapters PEFT wrote.
 */
class MergeInteropTest {
  @TempDir Path dir;

  @Test
  void mergedAdapterLoadsInPeftAndAppliesTheCoefficients() throws Exception {
    PythonScript.run(dir, 600, "merge_check.py", "fixture", dir.toString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path out = dir.resolve("out");
    int rc = Cli.run(err, "merge", "--set", "head-checkpoint=" + dir.resolve("base"), "--set", "head=score.weight",
        "--set", "adapters=" + dir.resolve("adapters/task-1") + "," + dir.resolve("adapters/task-2"),
        "--set", "pre-data=" + dir.resolve("data/pre"),
        "--set", "task-data=" + dir.resolve("data/task-1") + "," + dir.resolve("data/task-2"),
        "--set", "coefficients=explicit", "--set", "alphas=0.7,1.3", "--set", "out=" + out);
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    String check = PythonScript.run(dir, 600, "merge_check.py", "check", dir.toString(), out.toString());
    assertThat(check).contains("merge_check: 0 failed").contains("LoRA layers loaded: ['base_model.model.score']")
        .contains("ok   PEFT's effective head");
  }
}
