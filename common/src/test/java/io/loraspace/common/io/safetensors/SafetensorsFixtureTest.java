package io.loraspace.common.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.testing.Fixtures;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Files written by Python safetensors (scripts/python/make_fixtures.py) read exactly. */
class SafetensorsFixtureTest {
  private static Dtype dtypeOf(String torchName) {
    switch (torchName) {
      case "float64":
        return Dtype.F64;
      case "float32":
        return Dtype.F32;
      case "float16":
        return Dtype.F16;
      case "bfloat16":
        return Dtype.BF16;
      case "int64":
        return Dtype.I64;
      case "int32":
        return Dtype.I32;
      case "int16":
        return Dtype.I16;
      case "int8":
        return Dtype.I8;
      case "uint8":
        return Dtype.U8;
      case "bool":
        return Dtype.BOOL;
      default:
        throw new IllegalArgumentException(torchName);
    }
  }

  @Test
  void everyDtypeReadsExactlyAsPythonWroteIt() throws Exception {
    JsonNode expected = Fixtures.json("dtypes.expected.json");
    try (SafetensorsFile f = SafetensorsFile.open(Fixtures.path("dtypes.safetensors"))) {
      assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("producer", "make_fixtures.py");
      Iterator<Map.Entry<String, JsonNode>> it = expected.get("tensors").fields();
      int checked = 0;
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        JsonNode exp = e.getValue();
        TensorInfo info = f.info(name);
        assertThat(info.dtype()).as(name).isEqualTo(dtypeOf(exp.get("dtype").asText()));
        long[] shape = new long[exp.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = exp.get("shape").get(i).asLong();
        }
        assertThat(info.shape()).as(name).isEqualTo(shape);
        JsonNode values = exp.get("values");
        if (info.dtype().isFloating()) {
          double[] got = f.readDoubles(name);
          assertThat(got).as(name).hasSize(values.size());
          for (int i = 0; i < got.length; i++) {
            double want = Fixtures.hexDouble(values.get(i).asText());
            if (Double.isNaN(want)) {
              assertThat(got[i]).as(name + "[" + i + "]").isNaN();
            } else {
              // Exact, including the sign of zero.
              assertThat(Double.doubleToRawLongBits(got[i])).as(name + "[" + i + "] = " + got[i] + " vs " + want)
                  .isEqualTo(Double.doubleToRawLongBits(want));
            }
          }
        } else {
          long[] got = f.readLongs(name);
          assertThat(got).as(name).hasSize(values.size());
          for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).as(name + "[" + i + "]").isEqualTo(values.get(i).asLong());
          }
        }
        checked++;
      }
      assertThat(checked).isEqualTo(f.tensorNames().size()).isEqualTo(13);
    }
  }

  @Test
  void matrixReadsRowMajorIntoColumnMajor() {
    try (SafetensorsFile f = SafetensorsFile.open(Fixtures.path("dtypes.safetensors"))) {
      assertThat(f.bytesMapped()).isZero();
      DenseMatrix m = f.readMatrix("matrix_f32");
      // what a task reports as read from a file it maps in place: the tensor's 12 float32 values
      assertThat(f.bytesMapped()).isEqualTo(48);
      assertThat(m.rows()).isEqualTo(3);
      assertThat(m.cols()).isEqualTo(4);
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
          assertThat(m.get(i, j)).isEqualTo((i * 4 + j) / 8.0 - 0.5);
        }
      }
    }
  }

  @Test
  void shardedCheckpointReadsEveryTensorThroughItsIndex() throws Exception {
    JsonNode expected = Fixtures.json("sharded.expected.json");
    try (ShardedCheckpoint c = ShardedCheckpoint.open(Fixtures.path("sharded"))) {
      assertThat(c.tensorNames()).containsExactlyInAnyOrder("layers.0.weight", "layers.0.bias", "layers.1.weight",
          "layers.1.bias");
      assertThat(c.indexMetadata()).containsKey("total_size");
      assertThat(c.info("layers.1.weight").dtype()).isEqualTo(Dtype.BF16);
      assertThat(c.info("layers.1.bias").dtype()).isEqualTo(Dtype.F16);
      for (String name : c.tensorNames()) {
        double[] got = c.readDoubles(name);
        JsonNode vals = expected.get(name).get("values");
        assertThat(got).hasSize(vals.size());
        for (int i = 0; i < got.length; i++) {
          assertThat(got[i]).as(name + "[" + i + "]").isEqualTo(Fixtures.hexDouble(vals.get(i).asText()));
        }
      }
    }
  }
}
