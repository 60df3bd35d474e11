package io.loraspace.common.io;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes one activation (or gradient) block: {@code rows} tokens × {@code dim} values, little-endian, row-major
 * (value (t, j) at element {@code t * dim + j}), as stored in the Parquet binary column of the data contract, into a
 * caller-provided row-major {@code double[]}. Supported element types: {@link Dtype#F32}, {@link Dtype#BF16},
 * {@link Dtype#F16} and {@link Dtype#F64}; every value of those types is exactly representable as a double.
 *
 * <p>A row-major rows×dim block is a column-major dim×rows matrix, so the output can be handed to the accumulators (and
 * to BLAS) as is.
 *
 * <p>Non-finite values (NaN, ±Infinity) follow a {@link NonFinitePolicy}: {@link NonFinitePolicy#FAIL} throws a
 * {@link FormatException} naming the token row, the dim and the value; {@link NonFinitePolicy#SKIP} drops every token
 * row that holds one, compacting the kept rows to the front of the output. Messages carry no file, row or site context:
 * the caller adds it.
 *
 * <p>The decoder is stateless and allocates nothing per call (byte-array and byte-buffer views go through
 * {@link VarHandle}s, F16 through a constant 65 536-entry table).
 */
public final class ActivationBlockDecoder {

  /** What to do with a token row that holds a NaN or an infinity. */
  public enum NonFinitePolicy {
    /** Throw a {@link FormatException} naming the token row, the dim and the value. */
    FAIL,
    /** Drop the whole token row; the decode methods return how many rows were kept. */
    SKIP
  }

  private static final VarHandle F64_ARRAY =
      MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle F32_ARRAY =
      MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I16_ARRAY =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle F64_BUFFER =
      MethodHandles.byteBufferViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle F32_BUFFER =
      MethodHandles.byteBufferViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I16_BUFFER =
      MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

  /** binary16 bits (as an unsigned index) to float; built once from {@link Dtype#halfToFloat}, never modified. */
  private static final float[] HALF_TABLE = buildHalfTable();

  private ActivationBlockDecoder() {}

  private static float[] buildHalfTable() {
    float[] t = new float[1 << 16];
    for (int i = 0; i < t.length; i++) {
      t[i] = Dtype.halfToFloat((short) i);
    }
    return t;
  }

  /**
   * Decodes {@code length} bytes of {@code src} starting at {@code offset}.
   *
   * @param src the encoded block; not modified
   * @param offset index of the block's first byte in {@code src}
   * @param length byte length of the block; must equal {@code rows * dim * dtype.size()}
   * @param dtype F32, BF16, F16 or F64
   * @param rows number of token rows T (≥ 0)
   * @param dim values per token d (≥ 1)
   * @param dst receives the kept rows row-major at {@code dst[dstOffset + t * dim + j]}; only the first
   *     {@code returned * dim} values from {@code dstOffset} are written (with SKIP, a dropped row's slot may have been
   *     written and is then overwritten by the next kept row or left as scratch beyond the returned rows)
   * @param dstOffset index in {@code dst} of the first output value; {@code dst} must have room for {@code rows * dim}
   * @param policy what to do with rows holding a non-finite value
   * @return the number of rows kept: {@code rows} under FAIL, {@code rows - dropped} under SKIP
   * @throws FormatException on a byte length that does not match, or a non-finite value under FAIL
   * @throws ArgumentException on a bad dtype, shape, or an output too small
   */
  public static int decode(
      byte[] src, int offset, int length, Dtype dtype, int rows, int dim, double[] dst, int dstOffset,
      NonFinitePolicy policy) {
    checkArguments(dtype, rows, dim, dst, dstOffset, policy);
    if (offset < 0 || length < 0 || offset > src.length - length) {
      throw new ArgumentException(
          "Byte range [" + offset + ", " + ((long) offset + length) + ") outside the source array of length "
              + src.length);
    }
    checkLength(length, dtype, rows, dim);
    int kept = 0;
    for (int t = 0; t < rows; t++) {
      int in = offset + t * dim * dtype.size();
      int out = dstOffset + kept * dim;
      decodeRow(src, in, dtype, dim, dst, out);
      if (rowIsFinite(dst, out, dim)) {
        kept++;
      } else if (policy == NonFinitePolicy.FAIL) {
        throw nonFinite(dst, out, dim, t);
      }
    }
    return kept;
  }

  /**
   * Decodes the {@code src.remaining()} bytes between the buffer's position and limit. The buffer's position, limit
   * and byte order are not changed (absolute reads, little-endian whatever the buffer's order). Parameters, return
   * value and exceptions as in {@link #decode(byte[], int, int, Dtype, int, int, double[], int, NonFinitePolicy)}.
   */
  public static int decode(
      ByteBuffer src, Dtype dtype, int rows, int dim, double[] dst, int dstOffset, NonFinitePolicy policy) {
    checkArguments(dtype, rows, dim, dst, dstOffset, policy);
    checkLength(src.remaining(), dtype, rows, dim);
    int base = src.position();
    int kept = 0;
    for (int t = 0; t < rows; t++) {
      int in = base + t * dim * dtype.size();
      int out = dstOffset + kept * dim;
      decodeRow(src, in, dtype, dim, dst, out);
      if (rowIsFinite(dst, out, dim)) {
        kept++;
      } else if (policy == NonFinitePolicy.FAIL) {
        throw nonFinite(dst, out, dim, t);
      }
    }
    return kept;
  }

  /**
   * Widens {@code count} floats to doubles: {@code dst[dstOffset + i] = src[srcOffset + i]}. For callers that already
   * hold a float[] block; no non-finite check (use {@link #firstNonFinite} when the policy matters).
   */
  public static void widen(float[] src, int srcOffset, double[] dst, int dstOffset, int count) {
    for (int i = 0; i < count; i++) {
      dst[dstOffset + i] = src[srcOffset + i];
    }
  }

  /** Index (relative to {@code offset}) of the first non-finite value among {@code count}, or -1 when all are finite. */
  public static int firstNonFinite(double[] values, int offset, int count) {
    for (int i = 0; i < count; i++) {
      if (!Double.isFinite(values[offset + i])) {
        return i;
      }
    }
    return -1;
  }

  private static void decodeRow(byte[] src, int in, Dtype dtype, int dim, double[] dst, int out) {
    switch (dtype) {
      case F32:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = (float) F32_ARRAY.get(src, in + 4 * j);
        }
        break;
      case BF16:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = Float.intBitsToFloat(((short) I16_ARRAY.get(src, in + 2 * j) & 0xFFFF) << 16);
        }
        break;
      case F16:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = HALF_TABLE[(short) I16_ARRAY.get(src, in + 2 * j) & 0xFFFF];
        }
        break;
      case F64:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = (double) F64_ARRAY.get(src, in + 8 * j);
        }
        break;
      default:
        throw unsupported(dtype);
    }
  }

  private static void decodeRow(ByteBuffer src, int in, Dtype dtype, int dim, double[] dst, int out) {
    switch (dtype) {
      case F32:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = (float) F32_BUFFER.get(src, in + 4 * j);
        }
        break;
      case BF16:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = Float.intBitsToFloat(((short) I16_BUFFER.get(src, in + 2 * j) & 0xFFFF) << 16);
        }
        break;
      case F16:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = HALF_TABLE[(short) I16_BUFFER.get(src, in + 2 * j) & 0xFFFF];
        }
        break;
      case F64:
        for (int j = 0; j < dim; j++) {
          dst[out + j] = (double) F64_BUFFER.get(src, in + 8 * j);
        }
        break;
      default:
        throw unsupported(dtype);
    }
  }

  /** inf·0 and NaN·0 are NaN, finite·0 is 0: one branch per row instead of one per value. */
  private static boolean rowIsFinite(double[] v, int off, int dim) {
    double probe = 0.0;
    for (int j = 0; j < dim; j++) {
      probe += v[off + j] * 0.0;
    }
    return probe == 0.0;
  }

  private static FormatException nonFinite(double[] v, int off, int dim, int token) {
    int j = firstNonFinite(v, off, dim);
    return new FormatException(v[off + j] + " at token " + token + ", dim " + j);
  }

  private static void checkArguments(
      Dtype dtype, int rows, int dim, double[] dst, int dstOffset, NonFinitePolicy policy) {
    if (dtype == null || policy == null) {
      throw new ArgumentException("Activation block dtype and non-finite policy must be given, got dtype=" + dtype
          + ", policy=" + policy);
    }
    if (dtype != Dtype.F32 && dtype != Dtype.BF16 && dtype != Dtype.F16 && dtype != Dtype.F64) {
      throw unsupported(dtype);
    }
    if (rows < 0 || dim < 1) {
      throw new ArgumentException("Activation block shape [" + rows + ", " + dim + "] is invalid: rows must be >= 0 "
          + "and dim >= 1");
    }
    long values = (long) rows * dim;
    if (values * dtype.size() > Integer.MAX_VALUE) {
      throw new ArgumentException("Activation block [" + rows + ", " + dim + "] of " + dtype + " exceeds 2^31-1 bytes");
    }
    if (dstOffset < 0 || dstOffset > dst.length - values) {
      throw new ArgumentException("Output array of length " + dst.length + " has no room for " + rows + "×" + dim
          + " = " + values + " values at offset " + dstOffset);
    }
  }

  private static void checkLength(long actual, Dtype dtype, int rows, int dim) {
    long expected = (long) rows * dim * dtype.size();
    if (actual != expected) {
      throw new FormatException("Activation block byte length: expected " + rows + "×" + dim + "×" + dtype.size()
          + " (" + dtype + ") = " + expected + ", actual " + actual);
    }
  }

  private static ArgumentException unsupported(Dtype dtype) {
    return new ArgumentException("Activation block dtype " + dtype + " is not supported (supported: F32, BF16, F16, "
        + "F64)");
  }
}
