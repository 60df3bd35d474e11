package io.loraspace.jobs.init;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.PythonScript;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The init job against HF PEFT on the tiny Llama, end to end: capture (Python hook) → stats → init (every method) →
 * {@code scripts/python/init_check.py}, which loads residual + adapter with transformers + PEFT and compares logits,
 * PiSSA/CorDA/EVA with PEFT's own initialisations and SC-LoRA with numpy (see the script for the checks and
 * tolerances); the capture has gradients, so LoRA-DA and LoRA-One are checked against numpy references built from
 * autograd-hooked gradients, with the LM loss before and after each init. A BF16 base gives BF16 residuals that
 * round-trip to the base within BF16 rounding.
 */
class InitInteropTest {
  @TempDir Path dir;

  private String script(String... args) throws Exception {
    return PythonScript.run(dir, 900, "init_check.py", args);
  }

  private int cli(ByteArrayOutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void initVariantsAgreeWithPeftAndKeepTheBaseModelsLogits() throws Exception {
    script("fixture", dir.toString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(cli(err, "stats", "--set", "input=" + dir.resolve("corpus"), "--set", "out=" + dir.resolve("stats")))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    String modules = "target-modules=q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";
    assertThat(cli(err, "init", "--set", "stats=" + dir.resolve("stats"), "--set", "base=" + dir.resolve("base"),
        "--set", "out=" + dir.resolve("init"), "--set", modules,
        "--set", "methods=sc-lora,corda-ipa,corda-kpa,eva,pissa", "--set", "betas=0,0.5,0.9", "--set", "r=8",
        "--set", "lora-alpha=16")).as(err.toString(StandardCharsets.UTF_8)).isZero();

    String out = script("check", dir.toString());
    assertThat(out).contains("init_check: 25 checks, 0 failed");
    JsonNode report = Manifest.json().readTree(dir.resolve("init_check.json").toFile());
    assertThat(report.get("checks")).hasSize(25);
    for (JsonNode c : report.get("checks")) {
      assertThat(c.get("ok").asBoolean()).as(c.toString()).isTrue();
    }
    assertThat(out).contains("pissa: s·B·A vs PEFT").contains("corda-kpa: s·B·A vs PEFT's CorDA code run in float64")
        .contains("eva: min |cosine| per component vs PEFT EVA").contains("sc-lora-beta-0.9: logits");

    // LoRA-DA and LoRA-One from the gradient statistics of the same capture (init_check.py gradcheck).
    assertThat(cli(err, "init", "--set", "stats=" + dir.resolve("stats"), "--set", "base=" + dir.resolve("base"),
        "--set", "out=" + dir.resolve("init-grad"), "--set", modules, "--set", "methods=lora-da,lora-one",
        "--set", "r=8", "--set", "lora-alpha=16", "--set", "lora-da-n=1000", "--set", "lora-one-gamma=64"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    String grad = script("gradcheck", dir.toString());
    assertThat(grad).contains("init_check: 5 checks, 0 failed").contains("mean LM loss on the statistics samples");
    JsonNode gr = Manifest.json().readTree(dir.resolve("init_gradcheck.json").toFile());
    assertThat(gr.get("checks")).hasSize(5);
    for (JsonNode c : gr.get("checks")) {
      assertThat(c.get("ok").asBoolean()).as(c.toString()).isTrue();
    }
    assertThat(gr.get("losses").get("lora-one").asDouble()).isLessThan(gr.get("losses").get("base").asDouble());

    // BF16 base: residuals are BF16 and W_res + s·B·A = W within BF16 rounding of W_res.
    assertThat(cli(err, "init", "--set", "stats=" + dir.resolve("stats"), "--set", "base=" + dir.resolve("base-bf16"),
        "--set", "out=" + dir.resolve("init-bf16"), "--set", modules, "--set", "methods=sc-lora,pissa",
        "--set", "r=8", "--set", "lora-alpha=16")).as(err.toString(StandardCharsets.UTF_8)).isZero();
    int checked = 0;
    try (ShardedCheckpoint base = ShardedCheckpoint.open(dir.resolve("base-bf16"))) {
      for (String tag : List.of("sc-lora-beta-0.5", "pissa")) {
        LoraAdapter a = AdapterDirectory.read(dir.resolve("init-bf16").resolve(tag).resolve("adapter"));
        try (ShardedCheckpoint res = ShardedCheckpoint.open(dir.resolve("init-bf16").resolve(tag)
            .resolve("residual"))) {
          for (String m : a.modules().keySet()) {
            assertThat(res.info(m + ".weight").dtype().name()).isEqualTo("BF16");
            DenseMatrix back = res.readMatrix(m + ".weight");
            double maxRes = 0;
            for (double x : back.data()) {
              maxRes = Math.max(maxRes, Math.abs(x));
            }
            Matrices.axpy(1.0, a.delta(m), back);
            assertThat(Matrices.maxAbsDiff(back, base.readMatrix(m + ".weight"))).as(tag + " " + m)
                .isLessThanOrEqualTo(Math.pow(2, -8) * maxRes + 1e-6);
            checked++;
          }
        }
      }
    }
    assertThat(checked).isEqualTo(2 * 14);
  }
}
