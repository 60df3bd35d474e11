package io.loraspace.common.stats;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The versioned byte format of the statistics accumulators: what crosses Spark's shuffle and what the statistics store
 * writes to disk. All fields are little-endian.
 *
 * <pre>
 * offset  size  field
 *  0      4     magic    the ASCII bytes "LSAC" (4C 53 41 43)
 *  4      2     version  unsigned, currently 1
 *  6      2     kind     unsigned {@link AccumulatorKind#id()}: 1 TOKEN_GRAM, 2 SAMPLE_GRAM, 3 CROSS_PRODUCT,
 *                        4 DIAGONAL_SECOND_MOMENT
 *  8      4     rows     int32 ≥ 1: d (Grams), out (cross product, diagonal)
 * 12      4     cols     int32: d (Grams, must equal rows), in (cross product), 1 (diagonal)
 * 16      8·s   scalars  per kind, in this order (i64 = signed 64-bit integer, f64 = IEEE double):
 *                          TOKEN_GRAM:             tokenCount i64
 *                          SAMPLE_GRAM:            sampleCount i64, tokenCount i64, sumTokensSquared f64, batchSize i64
 *                          CROSS_PRODUCT:          tokenCount i64, sampleCount i64
 *                          DIAGONAL_SECOND_MOMENT: tokenCount i64
 *  ..     8·n   arrays   f64, per kind, in this order:
 *                          TOKEN_GRAM:             tokenSum[d], gram upper triangle packed (d(d+1)/2)
 *                          SAMPLE_GRAM:            sampleSum[d], tokenWeightedSampleSum[d], gram upper packed
 *                          CROSS_PRODUCT:          Σ g xᵀ column-major (out·in; element (i, j) at i + j·out)
 *                          DIAGONAL_SECOND_MOMENT: sumSquares[out]
 * </pre>
 *
 * A Gram is stored as its upper triangle packed column by column, LAPACK's "U" packed order: element (i, j) with
 * i ≤ j at index {@code i + j(j+1)/2} (half the bytes of the full matrix). A SAMPLE_GRAM's pending batch is applied
 * before writing, so the bytes hold the complete statistics and a read-back accumulator has an empty buffer.
 *
 * <p>The reader is strict: the magic, version, kind, shape, every count, and the exact byte length (truncation and
 * trailing bytes alike) are checked, and each failure is a {@link FormatException} naming the field with
 * "expected X, actual Y".
 */
public final class AccumulatorFormat {
  /** "LSAC" read as a little-endian int32. */
  public static final int MAGIC = 0x4341534C;
  public static final int VERSION = 1;
  /** Bytes before the scalars. */
  public static final int HEADER_BYTES = 16;

  private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle F64 = MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);

  private AccumulatorFormat() {}

  /** Number of 8-byte scalars after the header for a kind. */
  static int scalarCount(AccumulatorKind kind) {
    switch (kind) {
      case TOKEN_GRAM:
      case DIAGONAL_SECOND_MOMENT:
        return 1;
      case SAMPLE_GRAM:
        return 4;
      case CROSS_PRODUCT:
        return 2;
      default:
        throw new IllegalStateException(kind.name());
    }
  }

  /** Number of f64 array values for a kind and shape. */
  static long arrayValues(AccumulatorKind kind, int rows, int cols) {
    long packed = (long) rows * (rows + 1L) / 2;
    switch (kind) {
      case TOKEN_GRAM:
        return rows + packed;
      case SAMPLE_GRAM:
        return 2L * rows + packed;
      case CROSS_PRODUCT:
        return (long) rows * cols;
      case DIAGONAL_SECOND_MOMENT:
        return rows;
      default:
        throw new IllegalStateException(kind.name());
    }
  }

  /** Total byte length of a serialized accumulator of this kind and shape. */
  public static long byteLength(AccumulatorKind kind, int rows, int cols) {
    return HEADER_BYTES + 8L * scalarCount(kind) + 8L * arrayValues(kind, rows, cols);
  }

  /** Serializes an accumulator; it is not modified. */
  public static byte[] write(Accumulator acc) {
    long length = byteLength(acc.kind(), acc.rows(), acc.cols());
    if (length > Integer.MAX_VALUE - 8) {
      throw new ArgumentException(acc.kind() + " " + acc.shapeString() + " needs " + length
          + " bytes, more than a Java array holds");
    }
    byte[] b = new byte[(int) length];
    I32.set(b, 0, MAGIC);
    I16.set(b, 4, (short) VERSION);
    I16.set(b, 6, (short) acc.kind().id());
    I32.set(b, 8, acc.rows());
    I32.set(b, 12, acc.cols());
    int p = HEADER_BYTES;
    if (acc instanceof TokenGramAccumulator a) {
      p = putLong(b, p, a.tokenCount());
      p = putDoubles(b, p, a.tokenSumView(), a.dim());
      p = putUpperPacked(b, p, a.gramUpperView(), a.dim());
    } else if (acc instanceof SampleGramAccumulator a) {
      p = putLong(b, p, a.sampleCount());
      p = putLong(b, p, a.tokenCount());
      p = putDouble(b, p, a.sumTokensSquared());
      p = putLong(b, p, a.batchSize());
      p = putDoubles(b, p, a.sampleSumView(), a.dim());
      p = putDoubles(b, p, a.tokenWeightedSumView(), a.dim());
      p = putUpperPacked(b, p, a.flushedUpperCopy(), a.dim());
    } else if (acc instanceof CrossProductAccumulator a) {
      p = putLong(b, p, a.tokenCount());
      p = putLong(b, p, a.sampleCount());
      p = putDoubles(b, p, a.crossView(), a.crossView().length);
    } else if (acc instanceof DiagonalSecondMomentAccumulator a) {
      p = putLong(b, p, a.tokenCount());
      p = putDoubles(b, p, a.sumSquaresView(), a.dim());
    }
    if (p != b.length) {
      throw new IllegalStateException("Accumulator writer wrote " + p + " bytes, expected " + b.length);
    }
    return b;
  }

  /** Parses a whole array; see {@link #read(byte[], int, int)}. */
  public static Accumulator read(byte[] bytes) {
    return read(bytes, 0, bytes.length);
  }

  /** Kind and shape of a serialized accumulator whose magic, version, kind, shape and exact length were checked. */
  private record Header(AccumulatorKind kind, int rows, int cols) {}

  private static Header header(byte[] bytes, int offset, int length) {
    if (offset < 0 || length < 0 || offset > bytes.length - length) {
      throw new ArgumentException("Byte range [" + offset + ", " + ((long) offset + length)
          + ") outside an array of length " + bytes.length);
    }
    if (length < HEADER_BYTES) {
      throw fail("header", "at least " + HEADER_BYTES + " bytes", length + " bytes (truncated)");
    }
    int magic = (int) I32.get(bytes, offset);
    if (magic != MAGIC) {
      throw fail("magic", String.format("0x%08X (\"LSAC\")", MAGIC), String.format("0x%08X", magic));
    }
    int version = (short) I16.get(bytes, offset + 4) & 0xFFFF;
    if (version != VERSION) {
      throw fail("version", Integer.toString(VERSION), Integer.toString(version));
    }
    int kindId = (short) I16.get(bytes, offset + 6) & 0xFFFF;
    AccumulatorKind kind = AccumulatorKind.fromId(kindId);
    if (kind == null) {
      throw fail("kind", "one of " + AccumulatorKind.describeAll(), Integer.toString(kindId));
    }
    int rows = (int) I32.get(bytes, offset + 8);
    int cols = (int) I32.get(bytes, offset + 12);
    checkShape(kind, rows, cols);
    long expected = byteLength(kind, rows, cols);
    if (length != expected) {
      throw fail("length", expected + " bytes for " + kind + " [" + rows + ", " + cols + "]",
          length + " bytes" + (length < expected ? " (truncated)" : " (trailing bytes)"));
    }
    return new Header(kind, rows, cols);
  }

  /**
   * Parses {@code length} bytes at {@code offset} (nothing before or after them is looked at; all of them must belong
   * to the accumulator). {@code bytes} is not modified and not retained.
   *
   * @throws FormatException naming the field, with "expected X, actual Y", when the bytes do not follow the format
   */
  public static Accumulator read(byte[] bytes, int offset, int length) {
    Header h = header(bytes, offset, length);
    AccumulatorKind kind = h.kind;
    int rows = h.rows;
    int cols = h.cols;
    int p = offset + HEADER_BYTES;
    switch (kind) {
      case TOKEN_GRAM: {
        long tokens = count(bytes, p, "tokenCount");
        p += 8;
        double[] sum = getDoubles(bytes, p, rows);
        p += 8 * rows;
        double[] gram = getUpperPacked(bytes, p, rows);
        return TokenGramAccumulator.restore(rows, tokens, sum, gram);
      }
      case SAMPLE_GRAM: {
        long samples = count(bytes, p, "sampleCount");
        long tokens = count(bytes, p + 8, "tokenCount");
        double tokensSquared = tokensSquared(bytes, p + 16);
        long batch = batchSize(bytes, p + 24, rows);
        p += 32;
        double[] sampleSum = getDoubles(bytes, p, rows);
        p += 8 * rows;
        double[] weighted = getDoubles(bytes, p, rows);
        p += 8 * rows;
        double[] gram = getUpperPacked(bytes, p, rows);
        return SampleGramAccumulator.restore(rows, (int) batch, samples, tokens, tokensSquared, sampleSum, weighted,
            gram);
      }
      case CROSS_PRODUCT: {
        long tokens = count(bytes, p, "tokenCount");
        long samples = count(bytes, p + 8, "sampleCount");
        p += 16;
        return CrossProductAccumulator.restore(rows, cols, tokens, samples, getDoubles(bytes, p, rows * cols));
      }
      case DIAGONAL_SECOND_MOMENT: {
        long tokens = count(bytes, p, "tokenCount");
        p += 8;
        return DiagonalSecondMomentAccumulator.restore(rows, tokens, getDoubles(bytes, p, rows));
      }
      default:
        throw new IllegalStateException(kind.name());
    }
  }

  /**
   * Adds the serialized accumulator in {@code bytes[offset, offset + length)} to {@code into}, as
   * {@code into.merge(read(bytes, offset, length))} does — the same additions in the same order, so the same bits —
   * without allocating the read-back copy (a reduce merging N partials of a d×d Gram allocated N − 1 of them). The
   * bytes are checked as by {@link #read} before {@code into} changes.
   *
   * @throws FormatException as {@link #read}
   * @throws StateException when kind or shape differ from {@code into}'s
   */
  public static void mergeInto(Accumulator into, byte[] bytes, int offset, int length) {
    Header h = header(bytes, offset, length);
    int rows = h.rows;
    if (h.kind != into.kind() || rows != into.rows() || h.cols != into.cols()) {
      throw new StateException("Cannot merge " + h.kind + " [" + rows + ", " + h.cols
          + "] into " + into.kind() + " " + into.shapeString() + ": " + (h.kind != into.kind() ? "kinds" : "shapes")
          + " differ");
    }
    int p = offset + HEADER_BYTES;
    switch (h.kind) {
      case TOKEN_GRAM: {
        TokenGramAccumulator t = (TokenGramAccumulator) into;
        long tokens = count(bytes, p, "tokenCount");
        p += 8;
        p = addDoubles(bytes, p, t.sumArray(), rows);
        addUpperPacked(bytes, p, t.gramArray(), rows);
        t.addCounts(tokens);
        return;
      }
      case SAMPLE_GRAM: {
        SampleGramAccumulator t = (SampleGramAccumulator) into;
        long samples = count(bytes, p, "sampleCount");
        long tokens = count(bytes, p + 8, "tokenCount");
        double tokensSquared = tokensSquared(bytes, p + 16);
        batchSize(bytes, p + 24, rows);
        p += 32;
        p = addDoubles(bytes, p, t.sampleSumArray(), rows);
        p = addDoubles(bytes, p, t.weightedSumArray(), rows);
        addUpperPacked(bytes, p, t.gramArray(), rows);
        t.addScalars(samples, tokens, tokensSquared);
        return;
      }
      case CROSS_PRODUCT: {
        CrossProductAccumulator t = (CrossProductAccumulator) into;
        long tokens = count(bytes, p, "tokenCount");
        long samples = count(bytes, p + 8, "sampleCount");
        addDoubles(bytes, p + 16, t.array(), rows * h.cols);
        t.addCounts(tokens, samples);
        return;
      }
      case DIAGONAL_SECOND_MOMENT: {
        DiagonalSecondMomentAccumulator t = (DiagonalSecondMomentAccumulator) into;
        long tokens = count(bytes, p, "tokenCount");
        addDoubles(bytes, p + 8, t.array(), rows);
        t.addCounts(tokens);
        return;
      }
      default:
        throw new IllegalStateException(h.kind.name());
    }
  }

  /**
   * Parses bytes that must hold one kind of accumulator.
   *
   * @throws FormatException as {@link #read(byte[])}, or naming field 'kind' when another kind is found
   */
  public static <A extends Accumulator> A read(byte[] bytes, Class<A> type) {
    Accumulator a = read(bytes);
    if (!type.isInstance(a)) {
      throw fail("kind", kindOf(type), a.kind().id() + " (" + a.kind() + ")");
    }
    return type.cast(a);
  }

  private static String kindOf(Class<? extends Accumulator> type) {
    AccumulatorKind k;
    if (type == TokenGramAccumulator.class) {
      k = AccumulatorKind.TOKEN_GRAM;
    } else if (type == SampleGramAccumulator.class) {
      k = AccumulatorKind.SAMPLE_GRAM;
    } else if (type == CrossProductAccumulator.class) {
      k = AccumulatorKind.CROSS_PRODUCT;
    } else if (type == DiagonalSecondMomentAccumulator.class) {
      k = AccumulatorKind.DIAGONAL_SECOND_MOMENT;
    } else {
      return type.getSimpleName();
    }
    return k.id() + " (" + k + ")";
  }

  private static void checkShape(AccumulatorKind kind, int rows, int cols) {
    if (rows < 1) {
      throw fail("rows", "a dimension >= 1", Integer.toString(rows));
    }
    switch (kind) {
      case TOKEN_GRAM:
      case SAMPLE_GRAM:
        if (cols != rows) {
          throw fail("cols", rows + " (" + kind + " is square)", Integer.toString(cols));
        }
        break;
      case CROSS_PRODUCT:
        if (cols < 1) {
          throw fail("cols", "a dimension >= 1", Integer.toString(cols));
        }
        break;
      case DIAGONAL_SECOND_MOMENT:
        if (cols != 1) {
          throw fail("cols", "1 (" + kind + " is a vector)", Integer.toString(cols));
        }
        break;
      default:
        throw new IllegalStateException(kind.name());
    }
    if ((long) rows * cols > Integer.MAX_VALUE - 8) {
      throw fail("rows", "a shape of at most 2^31-1 values", "[" + rows + ", " + cols + "]");
    }
  }

  private static long count(byte[] b, int p, String field) {
    long v = (long) I64.get(b, p);
    if (v < 0) {
      throw fail(field, "a count >= 0", Long.toString(v));
    }
    return v;
  }

  private static double tokensSquared(byte[] b, int p) {
    double v = (double) F64.get(b, p);
    if (!(v >= 0.0) || Double.isInfinite(v)) {
      throw fail("sumTokensSquared", "a finite value >= 0", Double.toString(v));
    }
    return v;
  }

  private static long batchSize(byte[] b, int p, int rows) {
    long batch = (long) I64.get(b, p);
    if (batch < 1 || (long) rows * batch > Integer.MAX_VALUE) {
      throw fail("batchSize", "1 to " + (Integer.MAX_VALUE / rows) + " for d = " + rows, Long.toString(batch));
    }
    return batch;
  }

  private static FormatException fail(String field, String expected, String actual) {
    return new FormatException(
        "Accumulator bytes, field '" + field + "': expected " + expected + ", actual " + actual);
  }

  private static int putLong(byte[] b, int p, long v) {
    I64.set(b, p, v);
    return p + 8;
  }

  private static int putDouble(byte[] b, int p, double v) {
    F64.set(b, p, v);
    return p + 8;
  }

  private static int putDoubles(byte[] b, int p, double[] v, int n) {
    for (int i = 0; i < n; i++) {
      F64.set(b, p + 8 * i, v[i]);
    }
    return p + 8 * n;
  }

  /** Writes the upper triangle of the column-major d×d {@code upper} in LAPACK "U" packed order. */
  private static int putUpperPacked(byte[] b, int p, double[] upper, int d) {
    for (int j = 0; j < d; j++) {
      int col = j * d;
      for (int i = 0; i <= j; i++) {
        F64.set(b, p, upper[col + i]);
        p += 8;
      }
    }
    return p;
  }

  private static double[] getDoubles(byte[] b, int p, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = (double) F64.get(b, p + 8 * i);
    }
    return v;
  }

  /** {@code dst[i] += } the n doubles at {@code p}, as {@code StatsKernels.addVector}; returns the next offset. */
  private static int addDoubles(byte[] b, int p, double[] dst, int n) {
    for (int i = 0; i < n; i++) {
      dst[i] += (double) F64.get(b, p + 8 * i);
    }
    return p + 8 * n;
  }

  /** Adds a "U" packed triangle into column-major d×d {@code dst}, as {@code StatsKernels.addUpper}. */
  private static void addUpperPacked(byte[] b, int p, double[] dst, int d) {
    for (int j = 0; j < d; j++) {
      int col = j * d;
      for (int i = 0; i <= j; i++) {
        dst[col + i] += (double) F64.get(b, p);
        p += 8;
      }
    }
  }

  /** Reads a "U" packed triangle into a new column-major d×d array with a zero strict lower triangle. */
  private static double[] getUpperPacked(byte[] b, int p, int d) {
    double[] upper = new double[d * d];
    for (int j = 0; j < d; j++) {
      int col = j * d;
      for (int i = 0; i <= j; i++) {
        upper[col + i] = (double) F64.get(b, p);
        p += 8;
      }
    }
    return upper;
  }
}
