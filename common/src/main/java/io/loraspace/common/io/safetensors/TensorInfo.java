package io.loraspace.common.io.safetensors;

import io.loraspace.common.io.Dtype;
import java.util.Arrays;

/**
 * One tensor entry of a safetensors header. Offsets are relative to the start of the data section (after the 8-byte
 * length and the header), as in the file; all sizes are {@code long} so files and tensors over 2 GiB work.
 */
public final class TensorInfo {
  private final String name;
  private final Dtype dtype;
  private final long[] shape;
  private final long begin;
  private final long end;

  public TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.begin = begin;
    this.end = end;
  }

  public String name() {
    return name;
  }

  public Dtype dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long dim(int i) {
    return shape[i];
  }

  /** Number of elements: the product of the shape (1 for a scalar). */
  public long elements() {
    return elementsOf(shape);
  }

  public long begin() {
    return begin;
  }

  public long end() {
    return end;
  }

  public long byteLength() {
    return end - begin;
  }

  static long elementsOf(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n = Math.multiplyExact(n, s);
    }
    return n;
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + shapeString() + " [" + begin + ", " + end + ")";
  }
}
