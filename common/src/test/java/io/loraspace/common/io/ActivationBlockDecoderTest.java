package io.loraspace.common.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ActivationBlockDecoderTest {

  private static byte[] le16(int... bits) {
    ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : bits) {
      b.putShort((short) v);
    }
    return b.array();
  }

  private static byte[] le32(int... bits) {
    ByteBuffer b = ByteBuffer.allocate(4 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : bits) {
      b.putInt(v);
    }
    return b.array();
  }

  private static byte[] le64(long... bits) {
    ByteBuffer b = ByteBuffer.allocate(8 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : bits) {
      b.putLong(v);
    }
    return b.array();
  }

  private static double[] decodeAll(byte[] src, Dtype dtype, int rows, int dim) {
    double[] out = new double[rows * dim];
    int kept = ActivationBlockDecoder.decode(src, 0, src.length, dtype, rows, dim, out, 0, NonFinitePolicy.FAIL);
    assertThat(kept).isEqualTo(rows);
    return out;
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = ActivationBlockDecoderTest.class.getResourceAsStream("decoder/" + name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void f32KnownBitPatternsDecodeToTheirValues() {
    // 1.0f, -2.5f, 0.1f, smallest subnormal 2^-149, largest finite, -0.0f
    byte[] src = le32(0x3F800000, 0xC0200000, 0x3DCCCCCD, 0x00000001, 0x7F7FFFFF, 0x80000000);
    double[] out = decodeAll(src, Dtype.F32, 2, 3);
    assertThat(out).containsExactly(1.0, -2.5, 0.100000001490116119384765625, 0x1.0p-149, 0x1.fffffep127, -0.0);
    assertThat(Double.doubleToRawLongBits(out[5])).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void bf16KnownBitPatternsDecodeToTheirValues() {
    // 1.0, -5.0, 3.140625, smallest subnormal 2^-133, largest finite (0x7F7F), -0.0
    byte[] src = le16(0x3F80, 0xC0A0, 0x4049, 0x0001, 0x7F7F, 0x8000);
    double[] out = decodeAll(src, Dtype.BF16, 3, 2);
    assertThat(out).containsExactly(1.0, -5.0, 3.140625, 0x1.0p-133, 0x1.fep127, -0.0);
  }

  @Test
  void f16KnownBitPatternsDecodeToTheirValues() {
    // 1.0, -2.0, 0x3555 = 0.333251953125, smallest subnormal 2^-24, largest finite 65504, -0.0
    byte[] src = le16(0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000);
    double[] out = decodeAll(src, Dtype.F16, 1, 6);
    assertThat(out).containsExactly(1.0, -2.0, 0.333251953125, 0x1.0p-24, 65504.0, -0.0);
  }

  @Test
  void f64KnownBitPatternsDecodeToTheirValues() {
    byte[] src = le64(0x3FF0000000000000L, 0xC004000000000000L, 0x3FB999999999999AL, 0x0000000000000001L);
    double[] out = decodeAll(src, Dtype.F64, 4, 1);
    assertThat(out).containsExactly(1.0, -2.5, 0.1, Double.MIN_VALUE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"F32", "F16", "BF16"})
  void goldenBlocksWrittenByNumpyAndTorchDecodeToTheirFloat64Values(String name) throws IOException {
    byte[] src = resource(name + ".bin");
    double[] expected = new double[4 * 7];
    ByteBuffer.wrap(resource(name + ".expected.f64")).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(expected);
    double[] out = decodeAll(src, Dtype.valueOf(name), 4, 7);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Double.doubleToRawLongBits(out[i])).as("value %d", i)
          .isEqualTo(Double.doubleToRawLongBits(expected[i]));
    }
  }

  @Test
  void f16RoundTripThroughDtypeConversionsMatchesForEveryFiniteHalf() {
    short[] halves = new short[1 << 16];
    int n = 0;
    for (int bits = 0; bits < (1 << 16); bits++) {
      if ((bits & 0x7C00) != 0x7C00) {
        halves[n++] = (short) bits;
      }
    }
    ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putShort(halves[i]);
    }
    double[] out = decodeAll(b.array(), Dtype.F16, n, 1);
    for (int i = 0; i < n; i++) {
      // Re-encoding the decoded value must give back the same bits (conversion is exact both ways).
      assertThat(Dtype.floatToHalf((float) out[i])).as("half bits %04x", halves[i]).isEqualTo(halves[i]);
    }
  }

  @Test
  void bf16RoundTripOfRandomFloatsMatchesDtypeConversions() {
    Random rnd = new Random(7);
    int n = 4096;
    float[] src = new float[n];
    ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      src[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(20) - 10));
      b.putShort(Dtype.floatToBf16(src[i]));
    }
    double[] out = decodeAll(b.array(), Dtype.BF16, 64, 64);
    for (int i = 0; i < n; i++) {
      // Rounding to bf16 keeps 8 significant bits: relative error at most 2^-8 (half an ulp).
      assertThat(Math.abs(out[i] - src[i])).isLessThanOrEqualTo(Math.abs(src[i]) * 0x1.0p-8);
      assertThat(Dtype.floatToBf16((float) out[i])).isEqualTo(Dtype.floatToBf16(src[i]));
    }
  }

  @Test
  void byteArrayOffsetAndOutputOffsetAreHonoured() {
    byte[] body = le32(0x3F800000, 0x40000000, 0x40400000, 0x40800000);
    byte[] src = new byte[3 + body.length + 5];
    System.arraycopy(body, 0, src, 3, body.length);
    double[] out = new double[2 + 4 + 1];
    Arrays.fill(out, -7.0);
    int kept = ActivationBlockDecoder.decode(src, 3, body.length, Dtype.F32, 2, 2, out, 2, NonFinitePolicy.FAIL);
    assertThat(kept).isEqualTo(2);
    assertThat(out).containsExactly(-7.0, -7.0, 1.0, 2.0, 3.0, 4.0, -7.0);
  }

  @Test
  void byteBufferIsReadLittleEndianBetweenPositionAndLimitWithoutMovingIt() {
    byte[] body = le16(0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600);
    for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocate(20), ByteBuffer.allocateDirect(20)}) {
      buf.order(ByteOrder.BIG_ENDIAN);
      buf.position(4);
      buf.put(body);
      buf.position(4).limit(4 + body.length);
      double[] out = new double[6];
      int kept = ActivationBlockDecoder.decode(buf, Dtype.F16, 3, 2, out, 0, NonFinitePolicy.FAIL);
      assertThat(kept).isEqualTo(3);
      assertThat(out).containsExactly(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
      assertThat(buf.position()).isEqualTo(4);
      assertThat(buf.limit()).isEqualTo(4 + body.length);
      assertThat(buf.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
    }
  }

  @Test
  void byteBufferAndByteArrayPathsAgreeForEveryDtype() {
    Random rnd = new Random(11);
    for (Dtype dtype : new Dtype[] {Dtype.F32, Dtype.BF16, Dtype.F16, Dtype.F64}) {
      int rows = 9;
      int dim = 13;
      byte[] src = new byte[rows * dim * dtype.size()];
      ByteBuffer w = ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < rows * dim; i++) {
        float v = (float) rnd.nextGaussian();
        switch (dtype) {
          case F32 -> w.putFloat(v);
          case BF16 -> w.putShort(Dtype.floatToBf16(v));
          case F16 -> w.putShort(Dtype.floatToHalf(v));
          default -> w.putDouble(v);
        }
      }
      double[] fromArray = decodeAll(src, dtype, rows, dim);
      double[] fromBuffer = new double[rows * dim];
      ActivationBlockDecoder.decode(ByteBuffer.wrap(src), dtype, rows, dim, fromBuffer, 0, NonFinitePolicy.FAIL);
      assertThat(fromBuffer).as(dtype.name()).containsExactly(fromArray);
    }
  }

  @Test
  void zeroRowsAndOneDimAreAccepted() {
    double[] out = new double[0];
    assertThat(ActivationBlockDecoder.decode(new byte[0], 0, 0, Dtype.BF16, 0, 5, out, 0, NonFinitePolicy.FAIL))
        .isZero();
    assertThat(decodeAll(le32(0x40490FDB), Dtype.F32, 1, 1)).containsExactly((double) 3.1415927f);
  }

  @Test
  void byteLengthMismatchNamesExpectedAndActual() {
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            new byte[20], 0, 20, Dtype.F32, 2, 3, new double[6], 0, NonFinitePolicy.FAIL))
        .isInstanceOf(FormatException.class)
        .hasMessage("Activation block byte length: expected 2×3×4 (F32) = 24, actual 20");
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            ByteBuffer.allocate(14), Dtype.BF16, 2, 3, new double[6], 0, NonFinitePolicy.SKIP))
        .isInstanceOf(FormatException.class)
        .hasMessage("Activation block byte length: expected 2×3×2 (BF16) = 12, actual 14");
  }

  @Test
  void nanUnderFailNamesTokenAndDim() {
    int rows = 5;
    int dim = 20;
    float[] v = new float[rows * dim];
    v[3 * dim + 17] = Float.NaN;
    byte[] src = f32Bytes(v);
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            src, 0, src.length, Dtype.F32, rows, dim, new double[rows * dim], 0, NonFinitePolicy.FAIL))
        .isInstanceOf(FormatException.class)
        .hasMessage("NaN at token 3, dim 17");
  }

  @Test
  void infinitiesUnderFailAreNamedWithTheirSign() {
    // F16 0x7C00 = +inf, BF16 0xFF80 = -inf
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            le16(0x3C00, 0x7C00), 0, 4, Dtype.F16, 1, 2, new double[2], 0, NonFinitePolicy.FAIL))
        .isInstanceOf(FormatException.class)
        .hasMessage("Infinity at token 0, dim 1");
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            ByteBuffer.wrap(le16(0x3F80, 0x3F80, 0xFF80, 0x3F80)), Dtype.BF16, 2, 2, new double[4], 0,
            NonFinitePolicy.FAIL))
        .isInstanceOf(FormatException.class)
        .hasMessage("-Infinity at token 1, dim 0");
  }

  @Test
  void skipDropsWholeRowsWithNonFiniteValuesAndCompactsTheRest() {
    int rows = 6;
    int dim = 3;
    float[] v = new float[rows * dim];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    v[1 * dim + 2] = Float.NaN;
    v[4 * dim] = Float.NEGATIVE_INFINITY;
    v[5 * dim + 1] = Float.POSITIVE_INFINITY;
    byte[] src = f32Bytes(v);
    double[] out = new double[rows * dim];
    int kept = ActivationBlockDecoder.decode(src, 0, src.length, Dtype.F32, rows, dim, out, 0, NonFinitePolicy.SKIP);
    assertThat(kept).isEqualTo(3);
    assertThat(rows - kept).as("dropped").isEqualTo(3);
    assertThat(Arrays.copyOf(out, kept * dim)).containsExactly(0, 1, 2, 6, 7, 8, 9, 10, 11);
  }

  @Test
  void skipWithNoNonFiniteValuesKeepsEveryRow() {
    byte[] src = le64(Double.doubleToRawLongBits(1.5), Double.doubleToRawLongBits(-1e300));
    double[] out = new double[2];
    assertThat(ActivationBlockDecoder.decode(src, 0, 16, Dtype.F64, 2, 1, out, 0, NonFinitePolicy.SKIP)).isEqualTo(2);
    assertThat(out).containsExactly(1.5, -1e300);
  }

  @Test
  void unsupportedDtypeIsRejected() {
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            new byte[8], 0, 8, Dtype.I32, 1, 2, new double[2], 0, NonFinitePolicy.FAIL))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Activation block dtype I32 is not supported (supported: F32, BF16, F16, F64)");
  }

  @Test
  void outputTooSmallIsRejected() {
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            new byte[24], 0, 24, Dtype.F32, 2, 3, new double[8], 3, NonFinitePolicy.FAIL))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Output array of length 8 has no room for 2×3 = 6 values at offset 3");
  }

  @Test
  void sourceRangeOutsideArrayIsRejected() {
    assertThatThrownBy(() -> ActivationBlockDecoder.decode(
            new byte[10], 4, 8, Dtype.F32, 1, 2, new double[2], 0, NonFinitePolicy.FAIL))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Byte range [4, 12) outside the source array of length 10");
  }

  @Test
  void widenCopiesFloatsExactlyAndFirstNonFiniteFindsTheFirstBadValue() {
    float[] src = {1.5f, 0.1f, -3f, Float.NaN, Float.POSITIVE_INFINITY};
    double[] dst = new double[6];
    ActivationBlockDecoder.widen(src, 1, dst, 2, 4);
    assertThat(Arrays.copyOfRange(dst, 2, 5)).containsExactly((double) 0.1f, -3.0, Double.NaN);
    assertThat(ActivationBlockDecoder.firstNonFinite(dst, 0, 6)).isEqualTo(4);
    assertThat(ActivationBlockDecoder.firstNonFinite(dst, 0, 4)).isEqualTo(-1);
  }

  private static byte[] f32Bytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.array();
  }
}
