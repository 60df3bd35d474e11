package io.loraspace.common.io.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.ActivationBlockEncoder;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Builds a safetensors file: tensors (converted to their target dtype with round-to-nearest-even on add) and
 * {@code __metadata__}. Tensors are laid out sorted by name, the header JSON is padded with spaces so the data starts
 * at a multiple of 8, so the same content always gives the same bytes. {@link #write(Path)} writes a temporary file in
 * the target directory and moves it into place atomically: no partial file ever exists under the final name.
 */
public final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final class Entry {
    final Dtype dtype;
    final long[] shape;
    final byte[] bytes;

    Entry(Dtype dtype, long[] shape, byte[] bytes) {
      this.dtype = dtype;
      this.shape = shape;
      this.bytes = bytes;
    }
  }

  private final Map<String, Entry> tensors = new TreeMap<>();
  private final Map<String, String> metadata = new TreeMap<>();

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  public SafetensorsWriter metadata(Map<String, String> entries) {
    metadata.putAll(entries);
    return this;
  }

  private static long[] checkShape(String name, long[] shape, long values) {
    long n = 1;
    for (long s : shape) {
      if (s < 0) {
        throw new ArgumentException("Tensor '" + name + "' has a negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, s);
    }
    if (n != values) {
      throw new ArgumentException("Tensor '" + name + "' has shape " + Arrays.toString(shape) + " = " + n
          + " elements, but " + values + " values were given");
    }
    return shape.clone();
  }

  private void put(String name, Entry e) {
    if (name.equals("__metadata__") || name.isEmpty()) {
      throw new ArgumentException("Tensor name '" + name + "' is reserved or empty");
    }
    if (tensors.containsKey(name)) {
      throw new ArgumentException("Tensor '" + name + "' added twice");
    }
    tensors.put(name, e);
  }

  /** Adds row-major {@code values} stored as {@code dtype} (a floating type). */
  public SafetensorsWriter add(String name, Dtype dtype, long[] shape, double[] values) {
    long[] s = checkShape(name, shape, values.length);
    if (!dtype.isFloating()) {
      throw new ArgumentException("Tensor '" + name + "': use addLongs for integer dtype " + dtype);
    }
    put(name, new Entry(dtype, s, ActivationBlockEncoder.encode(values, 0, values.length, 1, dtype)));
    return this;
  }

  /** Adds row-major float {@code values} stored as {@code dtype}. */
  public SafetensorsWriter add(String name, Dtype dtype, long[] shape, float[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      d[i] = values[i];
    }
    return add(name, dtype, shape, d);
  }

  /** Adds a matrix as a 2-D tensor [rows, cols] (row-major on disk). */
  public SafetensorsWriter addMatrix(String name, Dtype dtype, DenseMatrix m) {
    return add(name, dtype, new long[] {m.rows(), m.cols()}, m.toRowMajor());
  }

  /**
   * Adds an exactly symmetric square matrix (as {@code StatsKernels.fullSymmetric} builds the Gram accumulators'):
   * its column-major values are already the row-major tensor, so they are written without a transposing copy. The
   * first row and column are checked equal (a cheap guard against a caller passing a non-symmetric matrix).
   */
  public SafetensorsWriter addSymmetricMatrix(String name, Dtype dtype, DenseMatrix m) {
    int n = m.rows();
    if (m.cols() != n) {
      throw new ArgumentException("Tensor '" + name + "': a symmetric matrix must be square, got " + n + "×" + m.cols());
    }
    for (int j = 1; j < n; j++) {
      if (Double.compare(m.get(0, j), m.get(j, 0)) != 0) {
        throw new ArgumentException("Tensor '" + name + "' is not symmetric: (0, " + j + ") = " + m.get(0, j)
            + ", (" + j + ", 0) = " + m.get(j, 0));
      }
    }
    return add(name, dtype, new long[] {n, n}, m.data());
  }

  /** Adds integer (or BOOL, 0/1) values; values outside the dtype's range fail naming the tensor. */
  public SafetensorsWriter addLongs(String name, Dtype dtype, long[] shape, long[] values) {
    long[] s = checkShape(name, shape, values.length);
    if (dtype.isFloating()) {
      throw new ArgumentException("Tensor '" + name + "': addLongs needs an integer dtype, got " + dtype);
    }
    long min;
    long max;
    switch (dtype) {
      case I64:
        min = Long.MIN_VALUE;
        max = Long.MAX_VALUE;
        break;
      case I32:
        min = Integer.MIN_VALUE;
        max = Integer.MAX_VALUE;
        break;
      case I16:
        min = Short.MIN_VALUE;
        max = Short.MAX_VALUE;
        break;
      case I8:
        min = Byte.MIN_VALUE;
        max = Byte.MAX_VALUE;
        break;
      case U8:
        min = 0;
        max = 255;
        break;
      case BOOL:
        min = 0;
        max = 1;
        break;
      default:
        throw new IllegalStateException(dtype.name());
    }
    ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.length; i++) {
      long v = values[i];
      if (v < min || v > max) {
        throw new ArgumentException("Tensor '" + name + "' element " + i + " = " + v + " is outside " + dtype
            + " range [" + min + ", " + max + "]");
      }
      switch (dtype) {
        case I64:
          b.putLong(v);
          break;
        case I32:
          b.putInt((int) v);
          break;
        case I16:
          b.putShort((short) v);
          break;
        default:
          b.put((byte) v);
      }
    }
    put(name, new Entry(dtype, s, b.array()));
    return this;
  }

  /** Adds already-encoded little-endian bytes. */
  public SafetensorsWriter addRaw(String name, Dtype dtype, long[] shape, byte[] bytes) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    if (n * dtype.size() != bytes.length) {
      throw new ArgumentException("Tensor '" + name + "' has dtype " + dtype + " and shape " + Arrays.toString(shape)
          + " = " + (n * dtype.size()) + " bytes, but " + bytes.length + " bytes were given");
    }
    put(name, new Entry(dtype, shape.clone(), bytes.clone()));
    return this;
  }

  public int tensorCount() {
    return tensors.size();
  }

  /** Size of the data section (sum of tensor bytes). */
  public long dataBytes() {
    long n = 0;
    for (Entry e : tensors.values()) {
      n += e.bytes.length;
    }
    return n;
  }

  /** The header bytes, padded with spaces to a multiple of 8. */
  byte[] header() {
    ObjectNode h = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = h.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long off = 0;
    for (Map.Entry<String, Entry> e : tensors.entrySet()) {
      ObjectNode t = h.putObject(e.getKey());
      t.put("dtype", e.getValue().dtype.name());
      var shape = t.putArray("shape");
      for (long s : e.getValue().shape) {
        shape.add(s);
      }
      var offs = t.putArray("data_offsets");
      offs.add(off);
      off += e.getValue().bytes.length;
      offs.add(off);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(h);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  /** Writes the whole file to {@code out} (not closed). */
  public void writeTo(OutputStream out) throws IOException {
    byte[] header = header();
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
    out.write(len.array());
    out.write(header);
    for (Entry e : tensors.values()) {
      out.write(e.bytes);
    }
  }

  /** Total file size. */
  public long fileBytes() {
    return 8L + header().length + dataBytes();
  }

  /**
   * Writes to {@code path} through a temporary file in the same directory and an atomic move; on failure the
   * temporary file is removed and {@code path} is untouched.
   */
  public void write(Path path) {
    Path dir = path.toAbsolutePath().getParent();
    Path tmp = dir.resolve("." + path.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      Files.createDirectories(dir);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream os = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20);
        writeTo(os);
        os.flush();
        ch.force(true);
      }
      try {
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // The original failure is what matters.
      }
      throw new StateException("Cannot write safetensors file '" + path + "': " + e.getMessage(), e);
    }
  }

  /** Bytes of the header JSON as text (for diagnostics and tests). */
  String headerText() {
    return new String(header(), StandardCharsets.UTF_8);
  }
}
