package io.loraspace.common.io;

import io.loraspace.common.error.ArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes blocks of T rows × d values, row-major little-endian, in F64, F32, F16 or BF16 (round to nearest even): the
 * binary columns of the activation contract. The inverse is {@link ActivationBlockDecoder}.
 */
public final class ActivationBlockEncoder {
  private ActivationBlockEncoder() {}

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
}
