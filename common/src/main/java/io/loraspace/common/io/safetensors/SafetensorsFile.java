package io.loraspace.common.io.safetensors;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: the header is parsed and validated strictly on open; tensor data is read
 * through memory maps of at most {@link #MAP_CHUNK} bytes each, so files and tensors beyond 2 GiB work (all offsets are
 * {@code long}).
 *
 * <p>Validation (format: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section): the file
 * holds at least 8 bytes; 0 &lt; N ≤ {@link #MAX_HEADER_BYTES} and 8 + N ≤ file size; the header is one JSON object
 * with no duplicate keys; {@code __metadata__}, when present, maps strings to strings; every tensor has a known dtype,
 * a shape of non-negative integers and {@code data_offsets [begin, end]} with begin ≤ end; end − begin equals
 * elements × dtype size; the tensors' ranges, sorted, are contiguous from 0 with no overlap or gap; the last end is the
 * data section's length (nothing after the data).
 */
public final class SafetensorsFile implements AutoCloseable {
  /** Upper bound on the header length, as in the reference implementation (100 MB). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;
  /** Largest single memory map (well below the 2 GiB limit of one MappedByteBuffer). */
  static final long MAP_CHUNK = 1L << 30;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Path path;
  private final String label;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private long bytesMapped;

  private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.label = path.toString();
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens and validates {@code path}; failures name the file and what is wrong. */
  public static SafetensorsFile open(Path path) {
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new FormatException(path + ": no such safetensors file");
    } catch (IOException e) {
      throw new FormatException(path + ": cannot open: " + e.getMessage(), e);
    }
    try {
      return parse(path, ch);
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // Nothing useful to do: the open failed already.
    }
  }

  private static SafetensorsFile parse(Path path, FileChannel ch) {
    try {
      long size = ch.size();
      if (size < 8) {
        throw new FormatException(path + ": file has " + size + " bytes, too short for the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(size > 8 ? 9 : 8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long n = lenBuf.getLong(0);
      TorchWeights.rejectIfTorch(path.toString(), lenBuf.array(), lenBuf.capacity(), size, n);
      if (n <= 0 || n > MAX_HEADER_BYTES) {
        throw new FormatException(path + ": header length " + Long.toUnsignedString(n) + " outside (0, "
            + MAX_HEADER_BYTES + "]");
      }
      if (8 + n > size) {
        throw new FormatException(path + ": header length " + n + " runs past the end of the file (" + size
            + " bytes)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) n);
      readFully(ch, hb, 8);
      String headerText = new String(hb.array(), StandardCharsets.UTF_8);
      JsonNode header;
      try {
        header = JSON.readTree(headerText);
      } catch (JsonParseException e) {
        String msg = e.getOriginalMessage();
        if (msg != null && msg.startsWith("Duplicate field")) {
          throw new FormatException(path + ": duplicate tensor name in header: " + msg);
        }
        throw new FormatException(path + ": header is not valid JSON: " + msg);
      } catch (JsonProcessingException e) {
        throw new FormatException(path + ": header is not valid JSON: " + e.getOriginalMessage());
      }
      if (header == null || !header.isObject()) {
        throw new FormatException(path + ": header is not a JSON object");
      }
      long dataLength = size - 8 - n;
      Map<String, String> metadata = new LinkedHashMap<>();
      List<TensorInfo> list = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> f = fields.next();
        if (f.getKey().equals("__metadata__")) {
          parseMetadata(path, f.getValue(), metadata);
        } else {
          list.add(parseTensor(path, f.getKey(), f.getValue()));
        }
      }
      checkOffsets(path, list, dataLength);
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      for (TensorInfo t : list) {
        tensors.put(t.name(), t);
      }
      return new SafetensorsFile(path, ch, 8 + n, Collections.unmodifiableMap(tensors),
          Collections.unmodifiableMap(metadata));
    } catch (IOException e) {
      throw new FormatException(path + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static void parseMetadata(Path path, JsonNode node, Map<String, String> out) {
    if (!node.isObject()) {
      throw new FormatException(path + ": __metadata__ is not a JSON object");
    }
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new FormatException(path + ": __metadata__ value of '" + e.getKey() + "' is not a string: "
            + e.getValue());
      }
      out.put(e.getKey(), e.getValue().asText());
    }
  }

  private static TensorInfo parseTensor(Path path, String name, JsonNode node) {
    String where = path + ": tensor '" + name + "'";
    if (!node.isObject()) {
      throw new FormatException(where + " entry is not a JSON object");
    }
    JsonNode dt = node.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new FormatException(where + " has no dtype string");
    }
    Dtype dtype = Dtype.parse(dt.asText(), where);
    JsonNode sh = node.get("shape");
    if (sh == null || !sh.isArray()) {
      throw new FormatException(where + " has no shape array");
    }
    long[] shape = new long[sh.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode s = sh.get(i);
      if (!s.isIntegralNumber() || s.asLong() < 0 || !s.canConvertToLong()) {
        throw new FormatException(where + " has a bad shape " + sh);
      }
      shape[i] = s.asLong();
    }
    JsonNode off = node.get("data_offsets");
    if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
        || !off.get(1).isIntegralNumber()) {
      throw new FormatException(where + " has no data_offsets [begin, end]");
    }
    long begin = off.get(0).asLong();
    long end = off.get(1).asLong();
    if (begin < 0 || end < begin) {
      throw new FormatException(where + " has data_offsets [" + begin + ", " + end + "] with end before begin");
    }
    long elements;
    try {
      elements = TensorInfo.elementsOf(shape);
    } catch (ArithmeticException e) {
      throw new FormatException(where + " has a shape " + sh + " whose size overflows");
    }
    long expected = elements * dtype.size();
    if (end - begin != expected) {
      throw new FormatException(where + " has dtype " + dtype + " and shape " + sh + " = " + expected
          + " bytes, but offsets [" + begin + ", " + end + ") span " + (end - begin) + " bytes");
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  private static void checkOffsets(Path path, List<TensorInfo> list, long dataLength) {
    List<TensorInfo> sorted = new ArrayList<>(list);
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long expect = 0;
    for (TensorInfo t : sorted) {
      if (t.begin() < expect) {
        throw new FormatException(path + ": tensor '" + t.name() + "' offsets [" + t.begin() + ", " + t.end()
            + ") overlap the previous tensor, which ends at " + expect);
      }
      if (t.begin() > expect) {
        throw new FormatException(path + ": tensor '" + t.name() + "' starts at " + t.begin()
            + ", leaving a gap after offset " + expect + " (offsets must be contiguous from 0)");
      }
      expect = t.end();
    }
    if (expect != dataLength) {
      if (expect > dataLength) {
        throw new FormatException(path + ": tensors end at data offset " + expect + " but the data section has only "
            + dataLength + " bytes (truncated file)");
      }
      throw new FormatException(path + ": tensors end at data offset " + expect + " but the data section has "
          + dataLength + " bytes (trailing bytes after the last tensor)");
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    long pos = position;
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file at " + pos);
      }
      pos += r;
    }
  }

  public Path path() {
    return path;
  }

  /** Tensor names in header order. */
  public List<String> tensorNames() {
    return new ArrayList<>(tensors.keySet());
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** The entry for {@code name}; a missing tensor fails naming the file and tensor. */
  public TensorInfo info(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new FormatException(label + ": no tensor '" + name + "'");
    }
    return t;
  }

  /** The {@code __metadata__} map (empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Absolute file offset where the data section starts (8 + header length). */
  public long dataStart() {
    return dataStart;
  }

  /** Tensor bytes handed out by {@link #map} (and the reads built on it) so far: what a task read of this file. */
  public long bytesMapped() {
    return bytesMapped;
  }

  /**
   * Read-only little-endian views of the tensor's bytes, one per map chunk of at most {@link #MAP_CHUNK} bytes, chunk
   * boundaries aligned to the dtype size. A tensor under 1 GiB comes back as a single buffer.
   */
  public List<ByteBuffer> map(String name) {
    TensorInfo t = info(name);
    List<ByteBuffer> out = new ArrayList<>();
    long chunk = MAP_CHUNK - (MAP_CHUNK % t.dtype().size());
    try {
      for (long off = t.begin(); off < t.end(); off += chunk) {
        long len = Math.min(chunk, t.end() - off);
        MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + off, len);
        out.add(m.order(ByteOrder.LITTLE_ENDIAN));
        bytesMapped += len;
      }
    } catch (IOException e) {
      throw new FormatException(label + ": cannot map tensor '" + name + "': " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      out.add(ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN));
    }
    return out;
  }

  private int elementCount(TensorInfo t, String what) {
    long n = t.elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new ArgumentException(label + ": tensor '" + t.name() + "' has " + n + " elements, too many for one "
          + what + " array; read it through map()");
    }
    return (int) n;
  }

  /** All elements as doubles in row-major order. Float dtypes convert exactly; integers to the nearest double. */
  public double[] readDoubles(String name) {
    TensorInfo t = info(name);
    double[] out = new double[elementCount(t, "double")];
    int i = 0;
    for (ByteBuffer b : map(name)) {
      i = decode(t.dtype(), b, out, i);
    }
    return out;
  }

  /** All elements as floats in row-major order (F64 is rounded to float). Floating dtypes only. */
  public float[] readFloats(String name) {
    TensorInfo t = info(name);
    if (!t.dtype().isFloating()) {
      throw new ArgumentException(label + ": tensor '" + name + "' has dtype " + t.dtype() + ", not a float type");
    }
    double[] d = readDoubles(name);
    float[] out = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = (float) d[i];
    }
    return out;
  }

  /** All elements as longs (integer and BOOL dtypes only; BOOL reads as 0/1). */
  public long[] readLongs(String name) {
    TensorInfo t = info(name);
    if (t.dtype().isFloating()) {
      throw new ArgumentException(label + ": tensor '" + name + "' has dtype " + t.dtype() + ", not an integer type");
    }
    long[] out = new long[elementCount(t, "long")];
    int i = 0;
    for (ByteBuffer b : map(name)) {
      while (b.hasRemaining()) {
        switch (t.dtype()) {
          case I64:
            out[i++] = b.getLong();
            break;
          case I32:
            out[i++] = b.getInt();
            break;
          case I16:
            out[i++] = b.getShort();
            break;
          case I8:
            out[i++] = b.get();
            break;
          case U8:
          case BOOL:
            out[i++] = b.get() & 0xFF;
            break;
          default:
            throw new IllegalStateException(t.dtype().name());
        }
      }
    }
    return out;
  }

  /** A 2-D tensor [rows, cols] (row-major on disk) as a column-major matrix. */
  public DenseMatrix readMatrix(String name) {
    TensorInfo t = matrixInfo(name);
    return DenseMatrix.fromRowMajor((int) t.dim(0), (int) t.dim(1), readDoubles(name));
  }

  private TensorInfo matrixInfo(String name) {
    TensorInfo t = info(name);
    if (t.rank() != 2) {
      throw new ArgumentException(label + ": tensor '" + name + "' has shape " + t.shapeString()
          + ", expected a 2-D matrix");
    }
    return t;
  }

  /**
   * The transpose of the 2-D tensor {@code name}, {@code dim(1) × dim(0)}, without a transposing copy: the file's
   * row-major elements are the transpose's column-major layout.
   */
  public DenseMatrix readMatrixTransposed(String name) {
    TensorInfo t = matrixInfo(name);
    return DenseMatrix.wrap((int) t.dim(1), (int) t.dim(0), readDoubles(name));
  }

  /**
   * Decodes the little-endian elements left in {@code b} as {@code dtype} into {@code out} from {@code start};
   * returns the index after the last one written.
   */
  public static int decode(Dtype dtype, ByteBuffer b, double[] out, int start) {
    int i = start;
    switch (dtype) {
      case F64: {
        // Bulk copy in the buffer's byte order (as getDouble would read each element).
        int n = b.remaining() / 8;
        b.asDoubleBuffer().get(out, i, n);
        b.position(b.position() + 8 * n);
        i += n;
        break;
      }
      case F32: {
        // Bulk read in the buffer's byte order, then widen (a getFloat per element was several times slower).
        int n = b.remaining() / 4;
        float[] f = new float[n];
        b.asFloatBuffer().get(f);
        b.position(b.position() + 4 * n);
        for (int k = 0; k < n; k++) {
          out[i++] = f[k];
        }
        break;
      }
      case F16:
        while (b.remaining() >= 2) {
          out[i++] = Dtype.halfToFloat(b.getShort());
        }
        break;
      case BF16:
        while (b.remaining() >= 2) {
          out[i++] = Dtype.bf16ToFloat(b.getShort());
        }
        break;
      case I64:
        while (b.remaining() >= 8) {
          out[i++] = b.getLong();
        }
        break;
      case I32:
        while (b.remaining() >= 4) {
          out[i++] = b.getInt();
        }
        break;
      case I16:
        while (b.remaining() >= 2) {
          out[i++] = b.getShort();
        }
        break;
      case I8:
        while (b.hasRemaining()) {
          out[i++] = b.get();
        }
        break;
      case U8:
      case BOOL:
        while (b.hasRemaining()) {
          out[i++] = b.get() & 0xFF;
        }
        break;
      default:
        throw new IllegalStateException(dtype.name());
    }
    return i;
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }
}
