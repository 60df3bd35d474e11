package io.loraspace.common.io.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.Dtype;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file whose tensors are declared up front and whose bytes are then streamed in declaration
 * order: the writer never holds more than a copy buffer, so files larger than the heap can be assembled from parts.
 * {@link #finish()} fails unless every declared byte was written.
 */
public final class SafetensorsStreamWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A declared tensor. */
  public static final class Spec {
    final String name;
    final Dtype dtype;
    final long[] shape;
    final long bytes;

    public Spec(String name, Dtype dtype, long[] shape) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape.clone();
      long n = 1;
      for (long s : shape) {
        if (s < 0) {
          throw new ArgumentException("Tensor '" + name + "' has negative shape " + Arrays.toString(shape));
        }
        n = Math.multiplyExact(n, s);
      }
      this.bytes = Math.multiplyExact(n, (long) dtype.size());
    }

    public long bytes() {
      return bytes;
    }
  }

  private final OutputStream out;
  private final List<Spec> specs;
  private int next;
  private long total;

  /** Writes the 8-byte length and the header for {@code specs} to {@code out} (which the caller closes). */
  public SafetensorsStreamWriter(OutputStream out, Map<String, String> metadata, List<Spec> specs) throws IOException {
    this.out = out;
    this.specs = new ArrayList<>(specs);
    ObjectNode h = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = h.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    Map<String, Boolean> seen = new LinkedHashMap<>();
    long off = 0;
    for (Spec s : specs) {
      if (seen.put(s.name, true) != null || s.name.equals("__metadata__") || s.name.isEmpty()) {
        throw new ArgumentException("Tensor name '" + s.name + "' is duplicated, reserved or empty");
      }
      ObjectNode t = h.putObject(s.name);
      t.put("dtype", s.dtype.name());
      var shape = t.putArray("shape");
      for (long d : s.shape) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(off).add(off + s.bytes);
      off += s.bytes;
    }
    byte[] json = JSON.writeValueAsBytes(h);
    int padded = (json.length + 7) / 8 * 8;
    byte[] header = Arrays.copyOf(json, padded);
    Arrays.fill(header, json.length, padded, (byte) ' ');
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
  }

  /** Streams the next declared tensor's bytes from {@code in}: exactly its byte length is read. */
  public void write(String name, InputStream in) throws IOException {
    Spec s = expect(name);
    byte[] buf = new byte[1 << 20];
    long left = s.bytes;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new StateException("Tensor '" + name + "': source ended " + left + " bytes early (expected " + s.bytes
            + ")");
      }
      out.write(buf, 0, n);
      left -= n;
    }
    total += s.bytes;
    next++;
  }

  /** Writes the next declared tensor from a byte array of exactly its length. */
  public void write(String name, byte[] bytes) throws IOException {
    Spec s = expect(name);
    if (bytes.length != s.bytes) {
      throw new StateException("Tensor '" + name + "' declared " + s.bytes + " bytes but " + bytes.length
          + " were given");
    }
    out.write(bytes);
    total += s.bytes;
    next++;
  }

  private Spec expect(String name) {
    if (next >= specs.size() || !specs.get(next).name.equals(name)) {
      throw new StateException("Tensor '" + name + "' written out of order; expected "
          + (next < specs.size() ? "'" + specs.get(next).name + "'" : "no more tensors"));
    }
    return specs.get(next);
  }

  /** Fails unless every declared tensor was written; returns the data bytes written. */
  public long finish() throws IOException {
    if (next != specs.size()) {
      throw new StateException("Only " + next + " of " + specs.size() + " declared tensors were written");
    }
    out.flush();
    return total;
  }
}
