package io.loraspace.common.io;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.safetensors.ShardedSafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.testing.Fixtures;
import io.loraspace.common.testing.PythonInterop;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files our writers produce, checked by the reference implementations: Python safetensors reads every dtype, the
 * metadata and a sharded set exactly; HF PEFT loads an adapter directory we wrote onto the tiny Llama with identical
 * tensors and the same per-module scaling.
 */
class JavaToPythonInteropTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static ArrayNode hexValues(double[] v) {
    ArrayNode a = JSON.createArrayNode();
    for (double x : v) {
      a.add(Fixtures.toHex(x));
    }
    return a;
  }

  private static ArrayNode shape(long... s) {
    ArrayNode a = JSON.createArrayNode();
    for (long x : s) {
      a.add(x);
    }
    return a;
  }

  @Test
  void pythonReadsOurSafetensorsAndPeftLoadsOurAdapter() throws Exception {
    ObjectNode checks = JSON.createObjectNode();
    Random rnd = new Random(9);

    // 1. One file with every dtype, special values and metadata.
    double[] floats = {0.0, -0.0, 1.5, -2.25, 0.1, 65504, 1e-7, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
        Double.NaN, rnd.nextGaussian(), rnd.nextGaussian()};
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("producer", "loraspace-test");
    ObjectNode tensors = JSON.createObjectNode();
    for (Dtype d : List.of(Dtype.F64, Dtype.F32, Dtype.F16, Dtype.BF16)) {
      String name = "t_" + d.name().toLowerCase();
      w.add(name, d, new long[] {3, 4}, floats);
      tensors.putObject(name).put("dtype", d.name()).<ObjectNode>set("shape", shape(3, 4));
    }
    long[] ints = {-3, 0, 1, 100};
    for (Dtype d : List.of(Dtype.I64, Dtype.I32, Dtype.I16, Dtype.I8)) {
      String name = "t_" + d.name().toLowerCase();
      w.addLongs(name, d, new long[] {4}, ints);
      ObjectNode t = tensors.putObject(name).put("dtype", d.name());
      t.set("shape", shape(4));
      ArrayNode vals = t.putArray("values");
      for (long x : ints) {
        vals.add(x);
      }
    }
    w.addLongs("t_u8", Dtype.U8, new long[] {2}, new long[] {0, 255});
    tensors.putObject("t_u8").put("dtype", "U8").<ObjectNode>set("shape", shape(2)).putArray("values").add(0).add(255);
    w.addLongs("t_bool", Dtype.BOOL, new long[] {2}, new long[] {1, 0});
    tensors.putObject("t_bool").put("dtype", "BOOL").<ObjectNode>set("shape", shape(2)).putArray("values")
        .add(true).add(false);
    w.write(dir.resolve("all.safetensors"));
    // Expected float values: what our own reader decodes (exact per dtype), which Python must see identically.
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("all.safetensors"))) {
      for (Dtype d : List.of(Dtype.F64, Dtype.F32, Dtype.F16, Dtype.BF16)) {
        String name = "t_" + d.name().toLowerCase();
        ((ObjectNode) tensors.get(name)).set("values", hexValues(f.readDoubles(name)));
      }
    }
    ObjectNode st = checks.putArray("safetensors").addObject();
    st.put("file", "all.safetensors");
    st.putObject("metadata").put("format", "pt").put("producer", "loraspace-test");
    st.set("tensors", tensors);

    // 2. A sharded checkpoint with an index.
    ShardedSafetensorsWriter sw = new ShardedSafetensorsWriter(64);
    ObjectNode sharded = checks.putArray("sharded").addObject();
    sharded.put("dir", "ckpt");
    ObjectNode st2 = sharded.putObject("tensors");
    for (int i = 0; i < 3; i++) {
      double[] v = new double[12];
      for (int k = 0; k < v.length; k++) {
        v[k] = rnd.nextGaussian();
      }
      sw.add("layer." + i + ".weight", Dtype.F64, new long[] {3, 4}, v);
      st2.putObject("layer." + i + ".weight").<ObjectNode>set("shape", shape(3, 4)).set("values", hexValues(v));
    }
    assertThat(sw.write(dir.resolve("ckpt").toAbsolutePath())).hasSize(3);

    // 3. A PEFT adapter for the tiny Llama (hidden 64, kv 32, intermediate 96) with rank/alpha patterns and rslora.
    AdapterConfig config = AdapterConfig.lora(4, 8, List.of("q_proj", "v_proj", "up_proj"));
    config.putRankPattern("v_proj", 2).putAlphaPattern("model.layers.1.mlp.up_proj", 3).setUseRslora(true);
    config.setTaskType("CAUSAL_LM");
    LoraAdapter adapter = new LoraAdapter(config);
    ObjectNode peft = checks.putArray("peft").addObject();
    peft.put("dir", "adapter").put("seed", 0);
    ObjectNode mods = peft.putObject("modules");
    int[][] dims = {{64, 64}, {32, 64}, {96, 64}}; // out, in of q, v, up
    String[] names = {"self_attn.q_proj", "self_attn.v_proj", "mlp.up_proj"};
    for (int layer = 0; layer < 2; layer++) {
      for (int m = 0; m < 3; m++) {
        String module = "model.layers." + layer + "." + names[m];
        int r = config.rankOf(module);
        DenseMatrix a = DenseMatrix.zeros(r, dims[m][1]);
        DenseMatrix b = DenseMatrix.zeros(dims[m][0], r);
        for (int k = 0; k < a.data().length; k++) {
          a.data()[k] = (float) rnd.nextGaussian();
        }
        for (int k = 0; k < b.data().length; k++) {
          b.data()[k] = (float) rnd.nextGaussian();
        }
        adapter.put(module, a, b);
        ObjectNode spec = mods.putObject(module);
        spec.set("A_shape", shape(a.rows(), a.cols()));
        spec.set("B_shape", shape(b.rows(), b.cols()));
        spec.set("A", hexValues(a.toRowMajor()));
        spec.set("B", hexValues(b.toRowMajor()));
        spec.put("scaling", config.scaling(module));
      }
    }
    AdapterDirectory.write(dir.resolve("adapter"), adapter, Dtype.F32, false);

    JSON.writeValue(dir.resolve("checks.json").toFile(), checks);
    PythonInterop.Result r = PythonInterop.run("interop_check.py", 300, dir.toString());
    assertThat(r.exitCode).as(r.output).isZero();
    assertThat(r.output).contains("interop_check: 3 checks passed");
  }
}
