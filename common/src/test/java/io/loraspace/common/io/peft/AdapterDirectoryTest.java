package io.loraspace.common.io.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdapterDirectoryTest {
  @TempDir Path dir;

  @Test
  void readsAnAdapterSavedByPeftExactly() throws Exception {
    JsonNode expected = Fixtures.json("peft_adapter.expected.json").get("modules");
    LoraAdapter adapter = AdapterDirectory.read(Fixtures.path("peft_adapter"));
    assertThat(adapter.modules().keySet()).containsExactlyInAnyOrderElementsOf(() -> expected.fieldNames());
    Iterator<Map.Entry<String, JsonNode>> it = expected.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      LoraAdapter.Factors f = adapter.factors(e.getKey());
      JsonNode exp = e.getValue();
      assertThat(f.a().rows()).isEqualTo(exp.get("A_shape").get(0).asInt());
      assertThat(f.a().cols()).isEqualTo(exp.get("A_shape").get(1).asInt());
      assertThat(f.b().rows()).isEqualTo(exp.get("B_shape").get(0).asInt());
      assertThat(f.b().cols()).isEqualTo(exp.get("B_shape").get(1).asInt());
      assertRowMajorEquals(f.a(), exp.get("A"));
      assertRowMajorEquals(f.b(), exp.get("B"));
      // PEFT's own scaling for the module: alpha_pattern/rank_pattern resolved the same way.
      assertThat(adapter.config().scaling(e.getKey())).as(e.getKey()).isEqualTo(exp.get("scaling").asDouble());
    }
    assertThat(adapter.config().rankOf("model.layers.0.self_attn.v_proj")).isEqualTo(2);
    assertThat(adapter.config().alphaOf("model.layers.1.self_attn.q_proj")).isEqualTo(16.0);
    assertThat(adapter.config().alphaOf("model.layers.0.self_attn.q_proj")).isEqualTo(8.0);
    assertThat(adapter.config().taskType()).isEqualTo("CAUSAL_LM");
  }

  private static void assertRowMajorEquals(DenseMatrix m, JsonNode values) {
    double[] rm = m.toRowMajor();
    assertThat(rm).hasSize(values.size());
    for (int i = 0; i < rm.length; i++) {
      assertThat(rm[i]).isEqualTo(Fixtures.hexDouble(values.get(i).asText()));
    }
  }

  @Test
  void writeThenReadRoundTripsAndKeepsUnknownConfigFields() throws Exception {
    LoraAdapter original = AdapterDirectory.read(Fixtures.path("peft_adapter"));
    original.config().setBaseModelNameOrPath("tiny-llama");
    Path out = dir.resolve("adapter");
    AdapterDirectory.write(out, original, Dtype.F32, false);
    LoraAdapter back = AdapterDirectory.read(out);
    for (String module : original.modules().keySet()) {
      assertThat(back.factors(module).a().data()).containsExactly(original.factors(module).a().data());
      assertThat(back.factors(module).b().data()).containsExactly(original.factors(module).b().data());
    }
    String json = Files.readString(out.resolve(AdapterDirectory.CONFIG));
    assertThat(json).contains("\"peft_version\" : \"0.21.0\"").contains("\"loftq_config\" : { }")
        .contains("\"base_model_name_or_path\" : \"tiny-llama\"");
    assertThat(back.config().baseModelNameOrPath()).isEqualTo("tiny-llama");
    try (var s = Files.list(dir)) {
      assertThat(s.count()).as("no temporary directories left").isEqualTo(1);
    }
  }

  @Test
  void directoryWithoutConfigFails() throws Exception {
    Files.createDirectories(dir.resolve("a"));
    assertThatThrownBy(() -> AdapterDirectory.read(dir.resolve("a"))).isInstanceOf(FormatException.class)
        .hasMessage(dir.resolve("a") + ": no adapter_config.json (not a PEFT adapter directory)");
  }

  @Test
  void configRankDisagreeingWithTensorShapesFails() throws Exception {
    Path a = dir.resolve("a");
    Files.createDirectories(a);
    Files.write(a.resolve("adapter_config.json"),
        AdapterConfig.lora(8, 16, List.of("q_proj")).toJson());
    new SafetensorsWriter()
        .add("base_model.model.layers.0.q_proj.lora_A.weight", Dtype.F32, new long[] {4, 6}, new double[24])
        .add("base_model.model.layers.0.q_proj.lora_B.weight", Dtype.F32, new long[] {5, 4}, new double[20])
        .write(a.resolve("adapter_model.safetensors"));
    assertThatThrownBy(() -> AdapterDirectory.read(a)).isInstanceOf(FormatException.class)
        .hasMessage(a.resolve("adapter_model.safetensors") + ": module 'layers.0.q_proj' has lora_A [4, 6] and "
            + "lora_B [5, 4], but adapter_config.json gives r = 8");
  }

  @Test
  void unpairedFactorFails() throws Exception {
    Path a = dir.resolve("a");
    Files.createDirectories(a);
    Files.write(a.resolve("adapter_config.json"), AdapterConfig.lora(4, 8, List.of("q_proj")).toJson());
    new SafetensorsWriter()
        .add("base_model.model.q_proj.lora_A.weight", Dtype.F32, new long[] {4, 6}, new double[24])
        .write(a.resolve("adapter_model.safetensors"));
    assertThatThrownBy(() -> AdapterDirectory.read(a)).isInstanceOf(FormatException.class)
        .hasMessage(a.resolve("adapter_model.safetensors") + ": module 'q_proj' has lora_A but no lora_B");
  }

  @Test
  void nonLoraTensorFailsNamingIt() throws Exception {
    Path a = dir.resolve("a");
    Files.createDirectories(a);
    Files.write(a.resolve("adapter_config.json"), AdapterConfig.lora(4, 8, List.of("q_proj")).toJson());
    new SafetensorsWriter()
        .add("base_model.model.q_proj.lora_magnitude_vector", Dtype.F32, new long[] {6}, new double[6])
        .write(a.resolve("adapter_model.safetensors"));
    assertThatThrownBy(() -> AdapterDirectory.read(a)).isInstanceOf(FormatException.class)
        .hasMessage(a.resolve("adapter_model.safetensors") + ": tensor 'base_model.model.q_proj.lora_magnitude_vector'"
            + " is not a LoRA factor of a linear layer (expected base_model.model.<module>.lora_A|lora_B.weight)");
  }

  @Test
  void badConfigValuesFail() {
    assertThatThrownBy(() -> AdapterConfig.parse("{\"peft_type\":\"IA3\",\"r\":4,\"lora_alpha\":8}"
        .getBytes(StandardCharsets.UTF_8), "c.json")).isInstanceOf(FormatException.class)
        .hasMessage("c.json: peft_type is 'IA3', expected 'LORA'");
    assertThatThrownBy(() -> AdapterConfig.parse("{\"peft_type\":\"LORA\",\"r\":0,\"lora_alpha\":8}"
        .getBytes(StandardCharsets.UTF_8), "c.json")).isInstanceOf(FormatException.class)
        .hasMessage("c.json: r is 0, expected a positive integer");
  }

  @Test
  void putRejectsFactorsDisagreeingWithTheConfig() {
    LoraAdapter a = new LoraAdapter(AdapterConfig.lora(4, 8, List.of("q_proj")));
    assertThatThrownBy(() -> a.put("q_proj", DenseMatrix.zeros(4, 6), DenseMatrix.zeros(5, 3)))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Module 'q_proj': lora_A has shape [4, 6] and lora_B [5, 3], which disagree on the rank");
    assertThatThrownBy(() -> a.put("q_proj", DenseMatrix.zeros(3, 6), DenseMatrix.zeros(5, 3)))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Module 'q_proj': lora_A has shape [3, 6] (rank 3), but the config gives this module r = 4");
  }

  @Test
  void scalingFollowsPatternsAndRslora() {
    AdapterConfig c = AdapterConfig.lora(8, 16, List.of("q_proj", "v_proj"));
    c.putRankPattern("v_proj", 2).putAlphaPattern("layers\\.1\\..*q_proj", 4);
    assertThat(c.scaling("model.layers.0.self_attn.q_proj")).isEqualTo(2.0);
    assertThat(c.scaling("model.layers.0.self_attn.v_proj")).isEqualTo(8.0);
    assertThat(c.scaling("model.layers.1.self_attn.q_proj")).isEqualTo(0.5);
    // A pattern key matches a whole dotted suffix only: "proj" is not a suffix module name of "q_proj".
    AdapterConfig d = AdapterConfig.lora(8, 16, List.of("q_proj")).putRankPattern("proj", 2);
    assertThat(d.rankOf("model.q_proj")).isEqualTo(8);
    c.setUseRslora(true);
    assertThat(c.scaling("model.layers.0.self_attn.q_proj")).isEqualTo(16 / Math.sqrt(8));
    assertThat(c.targets("model.layers.0.self_attn.q_proj")).isTrue();
    assertThat(c.targets("model.layers.0.self_attn.k_proj")).isFalse();
  }

  @Test
  void deltaIsScaledProductOfFactors() {
    Random r = new Random(5);
    DenseMatrix a = DenseMatrix.zeros(2, 3);
    DenseMatrix b = DenseMatrix.zeros(4, 2);
    for (int i = 0; i < a.data().length; i++) {
      a.data()[i] = r.nextGaussian();
    }
    for (int i = 0; i < b.data().length; i++) {
      b.data()[i] = r.nextGaussian();
    }
    LoraAdapter ad = new LoraAdapter(AdapterConfig.lora(2, 3, List.of("m"))).put("m", a, b);
    DenseMatrix d = ad.delta("m");
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        double want = 0;
        for (int k = 0; k < 2; k++) {
          want += b.get(i, k) * a.get(k, j);
        }
        assertThat(d.get(i, j)).isCloseTo(1.5 * want, org.assertj.core.data.Offset.offset(1e-12));
      }
    }
  }
}
