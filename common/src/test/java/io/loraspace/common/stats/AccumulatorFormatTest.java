package io.loraspace.common.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AccumulatorFormatTest {

  /** One populated accumulator of each kind (the sample Gram with a pending batch). */
  static List<Accumulator> populated() {
    return populated(77);
  }

  static List<Accumulator> populated(long seed) {
    Random rnd = new Random(seed);
    TokenGramAccumulator token = new TokenGramAccumulator(5);
    token.update(StatsTestSupport.rows(rnd, 11, 5), 11);
    SampleGramAccumulator sample = new SampleGramAccumulator(6, 4);
    for (int s = 0; s < 7; s++) { // 4 flushed + 3 pending
      sample.addSampleTokens(StatsTestSupport.rows(rnd, s, 6), 0, s);
    }
    CrossProductAccumulator cross = new CrossProductAccumulator(3, 7);
    cross.updateSample(StatsTestSupport.rows(rnd, 9, 3), 0, StatsTestSupport.rows(rnd, 9, 7), 0, 9);
    DiagonalSecondMomentAccumulator diag = new DiagonalSecondMomentAccumulator(4);
    diag.update(StatsTestSupport.rows(rnd, 8, 4), 0, 8);
    return List.of(token, sample, cross, diag);
  }

  /** Everything a reader can observe, as one array, for bitwise comparisons. */
  static double[] observable(Accumulator a) {
    if (a instanceof TokenGramAccumulator t) {
      return concat(t.gram().data(), t.tokenSum(), new double[] {t.tokenCount()});
    } else if (a instanceof SampleGramAccumulator s) {
      return concat(s.gram().data(), s.sampleSum(), s.tokenWeightedSampleSum(),
          new double[] {s.sumTokensSquared(), s.sampleCount(), s.tokenCount(), s.batchSize()});
    } else if (a instanceof CrossProductAccumulator c) {
      return concat(c.crossProduct().data(), new double[] {c.tokenCount(), c.sampleCount(), c.outDim(), c.inDim()});
    } else {
      DiagonalSecondMomentAccumulator d = (DiagonalSecondMomentAccumulator) a;
      return concat(d.sumSquares(), new double[] {d.tokenCount()});
    }
  }

  private static double[] concat(double[]... parts) {
    int n = 0;
    for (double[] p : parts) {
      n += p.length;
    }
    double[] out = new double[n];
    int at = 0;
    for (double[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  private static byte[] tokenGramD2() {
    TokenGramAccumulator a = new TokenGramAccumulator(2);
    a.update(new double[] {1, 2, 3, 4}, 2);
    return a.toBytes();
  }

  private static void assertFails(byte[] bytes, String message) {
    assertThatThrownBy(() -> AccumulatorFormat.read(bytes))
        .isInstanceOf(FormatException.class)
        .hasMessage(message);
  }

  private static byte[] withInt(byte[] b, int at, int value) {
    byte[] c = b.clone();
    ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
    return c;
  }

  private static byte[] withShort(byte[] b, int at, int value) {
    byte[] c = b.clone();
    ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) value);
    return c;
  }

  private static byte[] withLong(byte[] b, int at, long value) {
    byte[] c = b.clone();
    ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putLong(at, value);
    return c;
  }

  @Test
  void tokenGramBytesFollowTheDocumentedLayout() {
    ByteBuffer expected = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    expected.put(new byte[] {'L', 'S', 'A', 'C'}).putShort((short) 1).putShort((short) 1).putInt(2).putInt(2);
    expected.putLong(2); // tokenCount
    expected.putDouble(4).putDouble(6); // token sum
    expected.putDouble(10).putDouble(14).putDouble(20); // (0,0), (0,1), (1,1): "U" packed
    assertThat(tokenGramD2()).isEqualTo(expected.array());
    TokenGramAccumulator back = AccumulatorFormat.read(expected.array(), TokenGramAccumulator.class);
    assertThat(back.gram().data()).containsExactly(10, 14, 14, 20);
    assertThat(back.tokenSum()).containsExactly(4, 6);
    assertThat(back.tokenCount()).isEqualTo(2);
  }

  @Test
  void sampleGramBytesFollowTheDocumentedLayout() {
    SampleGramAccumulator a = new SampleGramAccumulator(1, 5);
    a.addSample(new double[] {3}, 0, 2);
    a.addSample(new double[] {-1}, 0, 4);
    ByteBuffer expected = ByteBuffer.allocate(16 + 32 + 24).order(ByteOrder.LITTLE_ENDIAN);
    expected.put(new byte[] {'L', 'S', 'A', 'C'}).putShort((short) 1).putShort((short) 2).putInt(1).putInt(1);
    expected.putLong(2).putLong(6).putDouble(20).putLong(5); // samples, tokens, Σ T², batch size
    expected.putDouble(2).putDouble(2).putDouble(10); // Σ x̂, Σ T x̂, S (pending batch applied)
    assertThat(a.toBytes()).isEqualTo(expected.array());
  }

  @Test
  void everyKindRoundTripsBitForBit() {
    for (Accumulator a : populated()) {
      byte[] bytes = a.toBytes();
      assertThat(bytes.length).isEqualTo(AccumulatorFormat.byteLength(a.kind(), a.rows(), a.cols()));
      Accumulator back = AccumulatorFormat.read(bytes);
      assertThat(back).isInstanceOf(a.getClass());
      StatsTestSupport.assertBitwiseEqual(observable(back), observable(a), a.kind().name());
      assertThat(back.toBytes()).isEqualTo(bytes);
    }
  }

  @Test
  void mergeIntoEqualsMergingTheReadBackCopyBitForBit() {
    List<Accumulator> first = populated(77);
    List<Accumulator> second = populated(78);
    for (int k = 0; k < first.size(); k++) {
      byte[] other = second.get(k).toBytes();
      byte[] padded = new byte[other.length + 7];
      System.arraycopy(other, 0, padded, 3, other.length);
      // into a read-back accumulator (what the reduce does) and into a live one (the sample Gram with a pending batch)
      for (Accumulator into : List.of(AccumulatorFormat.read(first.get(k).toBytes()), first.get(k))) {
        Accumulator expected = into.copy();
        expected.merge(AccumulatorFormat.read(other));
        Accumulator actual = into.copy();
        AccumulatorFormat.mergeInto(actual, padded, 3, other.length);
        String what = into.kind().name();
        assertThat(observable(actual)).as(what).isNotEqualTo(observable(into));
        StatsTestSupport.assertBitwiseEqual(observable(actual), observable(expected), what);
        assertThat(actual.toBytes()).as(what).isEqualTo(expected.toBytes());
      }
    }
  }

  @Test
  void mergeIntoChecksTheBytesAndTheTargetBeforeChangingIt() {
    Accumulator token = AccumulatorFormat.read(populated().get(0).toBytes()); // d = 5
    byte[] before = token.toBytes();
    byte[] bad = withLong(populated(78).get(0).toBytes(), 16, -1);
    assertThatThrownBy(() -> AccumulatorFormat.mergeInto(token, bad, 0, bad.length))
        .isInstanceOf(FormatException.class)
        .hasMessage("Accumulator bytes, field 'tokenCount': expected a count >= 0, actual -1");
    byte[] sample = populated().get(1).toBytes();
    assertThatThrownBy(() -> AccumulatorFormat.mergeInto(token, sample, 0, sample.length))
        .isInstanceOf(StateException.class).hasMessage("Cannot merge SAMPLE_GRAM [6, 6] into TOKEN_GRAM [5, 5]: kinds "
            + "differ");
    TokenGramAccumulator wider = new TokenGramAccumulator(6);
    byte[] other = wider.toBytes();
    assertThatThrownBy(() -> AccumulatorFormat.mergeInto(token, other, 0, other.length))
        .isInstanceOf(StateException.class).hasMessage("Cannot merge TOKEN_GRAM [6, 6] into TOKEN_GRAM [5, 5]: shapes "
            + "differ");
    assertThat(token.toBytes()).isEqualTo(before);
  }

  @Test
  void readerHonoursOffsetAndLength() {
    byte[] body = tokenGramD2();
    byte[] padded = new byte[body.length + 9];
    Arrays.fill(padded, (byte) 0x5A);
    System.arraycopy(body, 0, padded, 4, body.length);
    Accumulator back = AccumulatorFormat.read(padded, 4, body.length);
    assertThat(back.toBytes()).isEqualTo(body);
  }

  @Test
  void wrongMagicNamesTheField() {
    byte[] b = tokenGramD2();
    b[0] = 'X';
    assertFails(b, "Accumulator bytes, field 'magic': expected 0x4341534C (\"LSAC\"), actual 0x43415358");
  }

  @Test
  void wrongVersionNamesTheField() {
    assertFails(withShort(tokenGramD2(), 4, 2), "Accumulator bytes, field 'version': expected 1, actual 2");
  }

  @Test
  void unknownKindNamesTheField() {
    assertFails(withShort(tokenGramD2(), 6, 9), "Accumulator bytes, field 'kind': expected one of 1 (TOKEN_GRAM), "
        + "2 (SAMPLE_GRAM), 3 (CROSS_PRODUCT), 4 (DIAGONAL_SECOND_MOMENT), actual 9");
  }

  @Test
  void nonSquareGramShapeNamesTheField() {
    assertFails(withInt(tokenGramD2(), 12, 3),
        "Accumulator bytes, field 'cols': expected 2 (TOKEN_GRAM is square), actual 3");
  }

  @Test
  void diagonalWithMoreThanOneColumnNamesTheField() {
    byte[] b = populated().get(3).toBytes();
    assertFails(withInt(b, 12, 2),
        "Accumulator bytes, field 'cols': expected 1 (DIAGONAL_SECOND_MOMENT is a vector), actual 2");
  }

  @Test
  void zeroRowsNamesTheField() {
    assertFails(withInt(tokenGramD2(), 8, 0), "Accumulator bytes, field 'rows': expected a dimension >= 1, actual 0");
  }

  @Test
  void shapeThatDoesNotMatchThePayloadLengthNamesTheLength() {
    byte[] b = withInt(withInt(tokenGramD2(), 8, 3), 12, 3);
    assertFails(b, "Accumulator bytes, field 'length': expected 96 bytes for TOKEN_GRAM [3, 3], "
        + "actual 64 bytes (truncated)");
    byte[] cross = populated().get(2).toBytes(); // [3, 7]
    assertFails(withInt(cross, 12, 6), "Accumulator bytes, field 'length': expected " + (16 + 16 + 8 * 18)
        + " bytes for CROSS_PRODUCT [3, 6], actual " + cross.length + " bytes (trailing bytes)");
  }

  @Test
  void truncatedBytesFailAtEveryCutNamingHeaderOrLength() {
    byte[] b = tokenGramD2();
    for (int cut = 0; cut < b.length; cut++) {
      byte[] prefix = Arrays.copyOf(b, cut);
      String message = cut < 16
          ? "Accumulator bytes, field 'header': expected at least 16 bytes, actual " + cut + " bytes (truncated)"
          : "Accumulator bytes, field 'length': expected 64 bytes for TOKEN_GRAM [2, 2], actual " + cut
              + " bytes (truncated)";
      assertFails(prefix, message);
    }
  }

  @Test
  void trailingGarbageNamesTheLength() {
    byte[] b = Arrays.copyOf(tokenGramD2(), 65);
    assertFails(b, "Accumulator bytes, field 'length': expected 64 bytes for TOKEN_GRAM [2, 2], actual 65 bytes "
        + "(trailing bytes)");
  }

  @Test
  void negativeCountNamesTheField() {
    assertFails(withLong(tokenGramD2(), 16, -1), "Accumulator bytes, field 'tokenCount': expected a count >= 0, "
        + "actual -1");
    byte[] cross = populated().get(2).toBytes();
    assertFails(withLong(cross, 24, -5), "Accumulator bytes, field 'sampleCount': expected a count >= 0, actual -5");
  }

  @Test
  void badSampleGramScalarsNameTheField() {
    byte[] b = populated().get(1).toBytes(); // d = 6
    assertFails(withLong(b, 40, 0), "Accumulator bytes, field 'batchSize': expected 1 to 357913941 for d = 6, "
        + "actual 0");
    assertFails(withLong(b, 32, Double.doubleToRawLongBits(Double.NaN)),
        "Accumulator bytes, field 'sumTokensSquared': expected a finite value >= 0, actual NaN");
  }

  @Test
  void typedReadOfAnotherKindNamesTheKind() {
    byte[] b = populated().get(1).toBytes();
    assertThatThrownBy(() -> AccumulatorFormat.read(b, TokenGramAccumulator.class))
        .isInstanceOf(FormatException.class)
        .hasMessage("Accumulator bytes, field 'kind': expected 1 (TOKEN_GRAM), actual 2 (SAMPLE_GRAM)");
  }
}
