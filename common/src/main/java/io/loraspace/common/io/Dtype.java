package io.loraspace.common.io;

import io.loraspace.common.error.FormatException;

/**
 * Element types of safetensors tensors and activation blocks, named as in the safetensors header. All multi-byte types
 * are little-endian on disk.
 */
public enum Dtype {
  F64(8, true),
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I16(2, false),
  I8(1, false),
  U8(1, false),
  BOOL(1, false);

  private final int size;
  private final boolean floating;

  Dtype(int size, boolean floating) {
    this.size = size;
    this.floating = floating;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /** True for F64, F32, F16, BF16. */
  public boolean isFloating() {
    return floating;
  }

  /**
   * Parses a dtype name as written in a safetensors header or an activation row ("F32", "BF16", ...).
   *
   * @param where names the file/tensor/row for the error message
   */
  public static Dtype parse(String name, String where) {
    if (name != null) {
      for (Dtype d : values()) {
        if (d.name().equals(name)) {
          return d;
        }
      }
    }
    throw new FormatException(where + ": unknown dtype '" + name + "' (supported: F64, F32, F16, BF16, I64, I32, I16, "
        + "I8, U8, BOOL)");
  }

  /** IEEE 754 binary16 bits to float (exact: every half is a float). */
  public static float halfToFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal half: value = mant * 2^-24.
      float v = mant * 0x1.0p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float to IEEE 754 binary16 bits, round to nearest even; overflow goes to infinity, NaN stays NaN. */
  public static short floatToHalf(float value) {
    int f = Float.floatToRawIntBits(value);
    int sign = (f >>> 16) & 0x8000;
    int exp = (f >>> 23) & 0xFF;
    int mant = f & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // Subnormal: shift the mantissa with its implicit bit, round to nearest even.
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) == 1)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = sign | (e << 10) | (mant >>> 13);
    int rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) {
      half++; // may carry into the exponent, which is the correct rounding (up to infinity)
    }
    return (short) half;
  }

  /** bfloat16 bits to float (exact). */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** float to bfloat16 bits, round to nearest even; NaN stays NaN. */
  public static short floatToBf16(float value) {
    int f = Float.floatToRawIntBits(value);
    if ((f & 0x7F800000) == 0x7F800000 && (f & 0x7FFFFF) != 0) {
      return (short) ((f >>> 16) | 0x40);
    }
    int lsb = (f >>> 16) & 1;
    return (short) ((f + 0x7FFF + lsb) >>> 16);
  }
}
