package io.loraspace.common.io;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes and decodes blocks of T rows × d values, row-major little-endian, in F64, F32, F16 or BF16: the binary
 * columns of the activation contract and the payload of raw safetensors tensors. Decoding writes into a caller-owned
 * {@code double[]} and allocates nothing.
 */
public final class BlockCodec {
  private BlockCodec() {}

  /** Encodes {@code rows×cols} row-major values starting at {@code offset} into {@code dtype} bytes. */
  public static byte[] encode(double[] values, int offset, int rows, int cols, Dtype dtype) {
    if (!dtype.isFloating()) {
      throw new ArgumentException("Block dtype " + dtype + " is not a floating type");
    }
    int n = Math.multiplyExact(rows, cols);
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      double v = values[offset + i];
      switch (dtype) {
        case F64:
          b.putDouble(v);
          break;
        case F32:
          b.putFloat((float) v);
          break;
        case F16:
          b.putShort(Dtype.floatToHalf((float) v));
          break;
        case BF16:
          b.putShort(Dtype.floatToBf16((float) v));
          break;
        default:
          throw new IllegalStateException(dtype.name());
      }
    }
    return b.array();
  }

  /**
   * Decodes a block of {@code rows×cols} values from {@code bytes[offset, offset + length)} into {@code out} (row-major,
   * from index 0). The byte length must be exactly rows×cols×size. Under {@link NonFinitePolicy#FAIL} a NaN or ±Inf
   * throws, naming token row and dimension; under {@link NonFinitePolicy#SKIP} rows holding one are dropped and the
   * kept rows are compacted to the front of {@code out}.
   *
   * @return the number of rows kept (rows, unless some were skipped)
   */
  public static int decode(byte[] bytes, int offset, int length, int rows, int cols, Dtype dtype,
      NonFinitePolicy policy, double[] out) {
    long want = (long) rows * cols * dtype.size();
    if (length != want) {
      throw new FormatException("Block has " + length + " bytes, expected " + rows + " × " + cols + " × " + dtype.size()
          + " (" + dtype + ") = " + want);
    }
    if (out.length < (long) rows * cols) {
      throw new ArgumentException("Output buffer holds " + out.length + " values, block needs " + ((long) rows * cols));
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, offset, length).order(ByteOrder.LITTLE_ENDIAN);
    int kept = 0;
    for (int r = 0; r < rows; r++) {
      int base = offset + r * cols * dtype.size();
      int dst = kept * cols;
      boolean finite = true;
      switch (dtype) {
        case F32:
          for (int c = 0; c < cols; c++) {
            double v = b.getFloat(base + 4 * c);
            out[dst + c] = v;
            finite &= Double.isFinite(v);
          }
          break;
        case BF16:
          for (int c = 0; c < cols; c++) {
            double v = Dtype.bf16ToFloat(b.getShort(base + 2 * c));
            out[dst + c] = v;
            finite &= Double.isFinite(v);
          }
          break;
        case F16:
          for (int c = 0; c < cols; c++) {
            double v = Dtype.halfToFloat(b.getShort(base + 2 * c));
            out[dst + c] = v;
            finite &= Double.isFinite(v);
          }
          break;
        case F64:
          for (int c = 0; c < cols; c++) {
            double v = b.getDouble(base + 8 * c);
            out[dst + c] = v;
            finite &= Double.isFinite(v);
          }
          break;
        default:
          throw new ArgumentException("Block dtype " + dtype + " is not a floating type");
      }
      if (finite) {
        kept++;
      } else if (policy == NonFinitePolicy.FAIL) {
        for (int c = 0; c < cols; c++) {
          if (!Double.isFinite(out[dst + c])) {
            throw new FormatException(describe(out[dst + c]) + " at token " + r + ", dim " + c);
          }
        }
      }
    }
    return kept;
  }

  /** Decodes and returns a new array (convenience for small blocks and tests). */
  public static double[] decode(byte[] bytes, int rows, int cols, Dtype dtype) {
    double[] out = new double[Math.multiplyExact(rows, cols)];
    decode(bytes, 0, bytes.length, rows, cols, dtype, NonFinitePolicy.FAIL, out);
    return out;
  }

  private static String describe(double v) {
    return Double.isNaN(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
  }
}
