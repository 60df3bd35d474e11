package io.loraspace.jobs.inputs;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.safetensors.TorchWeights;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.jobs.output.Manifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A safetensors file read through Hadoop (local, HDFS, s3a) by positioned reads: the header once, then only the bytes
 * of the tensors asked for, so a task that needs one module's factors of hundreds of adapters reads only those.
 */
public final class RemoteSafetensors implements AutoCloseable {
  /** One tensor's header entry. */
  public static final class Entry {
    public final Dtype dtype;
    public final long[] shape;
    public final long begin;
    public final long end;

    Entry(Dtype dtype, long[] shape, long begin, long end) {
      this.dtype = dtype;
      this.shape = shape;
      this.begin = begin;
      this.end = end;
    }
  }

  private final Path path;
  private final FSDataInputStream in;
  private final long dataStart;
  private final Map<String, Entry> tensors = new LinkedHashMap<>();

  private RemoteSafetensors(Path path, FSDataInputStream in, long dataStart) {
    this.path = path;
    this.in = in;
    this.dataStart = dataStart;
  }

  /** A path as a user types it: without the scheme for local files (file:/x → /x). */
  static String local(Path p) {
    String scheme = p.toUri().getScheme();
    return scheme == null || scheme.equals("file") ? p.toUri().getPath() : p.toString();
  }

  /** Opens and parses the header; a damaged file fails naming it. */
  public static RemoteSafetensors open(FileSystem fs, Path path) throws IOException {
    FSDataInputStream in = fs.open(path);
    try {
      long size = fs.getFileStatus(path).getLen();
      byte[] len = new byte[size > 8 ? 9 : 8];
      if (size < 8) {
        throw new FormatException(path + ": " + size + " bytes, too short for a safetensors file");
      }
      in.readFully(0, len);
      long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
      TorchWeights.rejectIfTorch(local(path), len, len.length, size, n);
      if (n <= 0 || n > 100_000_000L || 8 + n > size) {
        throw new FormatException(path + ": safetensors header length " + n + " is invalid for a file of " + size
            + " bytes");
      }
      byte[] header = new byte[(int) n];
      in.readFully(8, header);
      JsonNode json;
      try {
        json = Manifest.json().readTree(header);
      } catch (IOException e) {
        throw new FormatException(path + ": safetensors header is not valid JSON: " + e.getMessage(), e);
      }
      RemoteSafetensors f = new RemoteSafetensors(path, in, 8 + n);
      long dataLen = size - 8 - n;
      var it = json.fields();
      while (it.hasNext()) {
        var e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonNode t = e.getValue();
        Dtype dt = Dtype.parse(t.path("dtype").asText(), path + " tensor '" + e.getKey() + "'");
        JsonNode sh = t.path("shape");
        long[] shape = new long[sh.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = sh.get(i).asLong();
          elements *= shape[i];
        }
        long begin = t.path("data_offsets").path(0).asLong(-1);
        long end = t.path("data_offsets").path(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen || end - begin != elements * dt.size()) {
          throw new FormatException(path + ": tensor '" + e.getKey() + "' has data_offsets [" + begin + ", " + end
              + "] inconsistent with shape and dtype or beyond the file's " + dataLen + " data bytes");
        }
        f.tensors.put(e.getKey(), new Entry(dt, shape, begin, end));
      }
      return f;
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  public Map<String, Entry> tensors() {
    return tensors;
  }

  public Path path() {
    return path;
  }

  /** A 2-D tensor as a column-major matrix (float64). */
  public DenseMatrix readMatrix(String name) throws IOException {
    Entry e = entry(name);
    if (e.shape.length != 2) {
      throw new FormatException(path + ": tensor '" + name + "' is not 2-D");
    }
    return DenseMatrix.fromRowMajor((int) e.shape[0], (int) e.shape[1], readDoubles(name));
  }

  private Entry entry(String name) {
    Entry e = tensors.get(name);
    if (e == null) {
      throw new FormatException(path + ": no tensor '" + name + "'");
    }
    return e;
  }

  /** Any floating tensor's elements in file (row-major) order, as float64; non-finite values fail. */
  public double[] readDoubles(String name) throws IOException {
    Entry e = entry(name);
    byte[] bytes = new byte[(int) (e.end - e.begin)];
    in.readFully(dataStart + e.begin, bytes);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (!e.dtype.isFloating()) {
      throw new FormatException(path + ": tensor '" + name + "' has dtype " + e.dtype
          + ", expected F64, F32, F16 or BF16");
    }
    double[] out = new double[(int) (bytes.length / e.dtype.size())];
    SafetensorsFile.decode(e.dtype, b, out, 0);
    for (int i = 0; i < out.length; i++) {
      if (!Double.isFinite(out[i])) {
        throw new FormatException(path + ": tensor '" + name + "' holds a non-finite value " + out[i]
            + " at element " + i);
      }
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
