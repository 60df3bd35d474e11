package io.loraspace.common.io.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
  @TempDir Path dir;

  private static double[] random(int n, long seed) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian();
    }
    return v;
  }

  @Test
  void roundTripsEveryFloatDtypeThroughTheReader() {
    double[] v = random(12, 1);
    Path p = dir.resolve("m.safetensors");
    new SafetensorsWriter().metadata("format", "pt")
        .add("f64", Dtype.F64, new long[] {3, 4}, v)
        .add("f32", Dtype.F32, new long[] {12}, v)
        .add("f16", Dtype.F16, new long[] {2, 6}, v)
        .add("bf16", Dtype.BF16, new long[] {4, 3}, v)
        .addLongs("i32", Dtype.I32, new long[] {3}, new long[] {-5, 0, 7})
        .write(p);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.metadata()).containsExactly(java.util.Map.entry("format", "pt"));
      assertThat(f.readDoubles("f64")).containsExactly(v);
      double[] f32 = f.readDoubles("f32");
      double[] f16 = f.readDoubles("f16");
      double[] bf16 = f.readDoubles("bf16");
      for (int i = 0; i < v.length; i++) {
        assertThat(f32[i]).isEqualTo((double) (float) v[i]);
        assertThat(f16[i]).isEqualTo(Dtype.halfToFloat(Dtype.floatToHalf((float) v[i])));
        assertThat(bf16[i]).isEqualTo(Dtype.bf16ToFloat(Dtype.floatToBf16((float) v[i])));
        // Rounding error bounds of the formats (relative 2^-11 for F16 normals, 2^-8 for BF16).
        assertThat(Math.abs(f16[i] - v[i])).isLessThanOrEqualTo(Math.abs(v[i]) * 0x1p-11 + 0x1p-24);
        assertThat(Math.abs(bf16[i] - v[i])).isLessThanOrEqualTo(Math.abs(v[i]) * 0x1p-8);
      }
      assertThat(f.readLongs("i32")).containsExactly(-5, 0, 7);
      DenseMatrix m = f.readMatrix("f64");
      assertThat(m.get(1, 2)).isEqualTo(v[1 * 4 + 2]);
      DenseMatrix t = f.readMatrixTransposed("f64");
      assertThat(t.rows()).isEqualTo(4);
      assertThat(t.cols()).isEqualTo(3);
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
          assertThat(t.get(j, i)).isEqualTo(m.get(i, j));
        }
      }
    }
  }

  @Test
  void headerIsPaddedToAMultipleOfEightAndBytesAreDeterministic() throws Exception {
    SafetensorsWriter a = new SafetensorsWriter().add("b", Dtype.F32, new long[] {1}, new double[] {1})
        .add("a", Dtype.F64, new long[] {2}, new double[] {2, 3}).metadata("k", "v");
    SafetensorsWriter b = new SafetensorsWriter().metadata("k", "v")
        .add("a", Dtype.F64, new long[] {2}, new double[] {2, 3}).add("b", Dtype.F32, new long[] {1}, new double[] {1});
    ByteArrayOutputStream oa = new ByteArrayOutputStream();
    ByteArrayOutputStream ob = new ByteArrayOutputStream();
    a.writeTo(oa);
    b.writeTo(ob);
    assertThat(oa.toByteArray()).isEqualTo(ob.toByteArray());
    long n = ByteBuffer.wrap(oa.toByteArray(), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(n % 8).isZero();
    assertThat(a.headerText()).startsWith("{\"__metadata__\":{\"k\":\"v\"},\"a\":");
    assertThat(oa.size()).isEqualTo(a.fileBytes());
  }

  @Test
  void failedWriteLeavesNoFileUnderTheFinalNameOrTemporaryFiles() throws Exception {
    Path target = dir.resolve("sub");
    Files.writeString(target, "a file where a directory is needed");
    Path p = target.resolve("x.safetensors");
    assertThatThrownBy(() -> new SafetensorsWriter().add("a", Dtype.F32, new long[] {1}, new double[] {1}).write(p))
        .isInstanceOf(StateException.class).hasMessageStartingWith("Cannot write safetensors file '" + p + "'");
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(x -> x.getFileName().toString()).collect(Collectors.toList())).containsExactly("sub");
    }
  }

  @Test
  void overwriteReplacesAtomically() throws Exception {
    Path p = dir.resolve("x.safetensors");
    new SafetensorsWriter().add("a", Dtype.F32, new long[] {1}, new double[] {1}).write(p);
    new SafetensorsWriter().add("a", Dtype.F32, new long[] {1}, new double[] {2}).write(p);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertThat(f.readDoubles("a")).containsExactly(2.0);
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.count()).isEqualTo(1);
    }
  }

  @Test
  void badAddsFailNamingTheTensor() {
    SafetensorsWriter w = new SafetensorsWriter().add("a", Dtype.F32, new long[] {2}, new double[] {1, 2});
    assertThatThrownBy(() -> w.add("a", Dtype.F32, new long[] {1}, new double[] {1}))
        .isInstanceOf(ArgumentException.class).hasMessage("Tensor 'a' added twice");
    assertThatThrownBy(() -> w.add("b", Dtype.F32, new long[] {2, 2}, new double[] {1}))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Tensor 'b' has shape [2, 2] = 4 elements, but 1 values were given");
    assertThatThrownBy(() -> w.addLongs("c", Dtype.I8, new long[] {1}, new long[] {300}))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Tensor 'c' element 0 = 300 is outside I8 range [-128, 127]");
  }

  @Test
  void shardedWriterSplitsByBytesAndTheCheckpointReadsBack() {
    ShardedSafetensorsWriter w = new ShardedSafetensorsWriter(100).metadata("format", "pt");
    for (int i = 0; i < 5; i++) {
      w.add("layer." + i + ".weight", Dtype.F32, new long[] {4, 4}, random(16, i)); // 64 bytes each
    }
    List<String> files = w.write(dir);
    assertThat(files).containsExactly("model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
        "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors", "model-00005-of-00005.safetensors");
    try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
      assertThat(c.tensorNames()).hasSize(5);
      assertThat(c.indexMetadata()).containsEntry("total_size", "320");
      double[] want = random(16, 3);
      double[] got = c.readDoubles("layer.3.weight");
      for (int i = 0; i < 16; i++) {
        assertThat(got[i]).isEqualTo((double) (float) want[i]);
      }
    }
  }

  @Test
  void indexNamingAMissingShardFails() throws Exception {
    Files.writeString(dir.resolve(ShardedCheckpoint.INDEX),
        "{\"metadata\":{},\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}");
    assertThatThrownBy(() -> ShardedCheckpoint.open(dir)).isInstanceOf(FormatException.class)
        .hasMessage(dir.resolve(ShardedCheckpoint.INDEX) + ": tensor 'w' is in shard "
            + "'model-00001-of-00002.safetensors', which does not exist");
  }

  @Test
  void indexNamingATensorMissingFromItsShardFails() throws Exception {
    new SafetensorsWriter().add("present", Dtype.F32, new long[] {1}, new double[] {1})
        .write(dir.resolve("s1.safetensors"));
    Files.writeString(dir.resolve(ShardedCheckpoint.INDEX),
        "{\"metadata\":{},\"weight_map\":{\"present\":\"s1.safetensors\",\"ghost\":\"s1.safetensors\"}}");
    try (ShardedCheckpoint c = ShardedCheckpoint.open(dir)) {
      assertThatThrownBy(() -> c.readDoubles("present")).isInstanceOf(FormatException.class)
          .hasMessage(dir.resolve(ShardedCheckpoint.INDEX) + ": tensor 'ghost' is mapped to shard 's1.safetensors', "
              + "which does not contain it");
      assertThatThrownBy(() -> c.info("nope")).isInstanceOf(FormatException.class)
          .hasMessage(dir.resolve(ShardedCheckpoint.INDEX) + ": no tensor 'nope'");
    }
  }

  @Test
  void symmetricMatricesAreWrittenAsAddMatrixWritesThemAndOthersAreRefused() throws Exception {
    int n = 37;
    Random rnd = new Random(5);
    DenseMatrix a = DenseMatrix.zeros(n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double v = rnd.nextGaussian();
        a.set(i, j, v);
        a.set(j, i, v);
      }
    }
    ByteArrayOutputStream viaTranspose = new ByteArrayOutputStream();
    new SafetensorsWriter().addMatrix("g", Dtype.F64, a).writeTo(viaTranspose);
    ByteArrayOutputStream direct = new ByteArrayOutputStream();
    new SafetensorsWriter().addSymmetricMatrix("g", Dtype.F64, a).writeTo(direct);
    assertThat(direct.toByteArray()).isEqualTo(viaTranspose.toByteArray());

    a.set(0, 5, a.get(0, 5) + 1);
    assertThatThrownBy(() -> new SafetensorsWriter().addSymmetricMatrix("g", Dtype.F64, a))
        .isInstanceOf(ArgumentException.class).hasMessageStartingWith("Tensor 'g' is not symmetric: (0, 5) = ");
    assertThatThrownBy(() -> new SafetensorsWriter().addSymmetricMatrix("r", Dtype.F64, DenseMatrix.zeros(2, 3)))
        .isInstanceOf(ArgumentException.class).hasMessage("Tensor 'r': a symmetric matrix must be square, got 2×3");
  }
}
