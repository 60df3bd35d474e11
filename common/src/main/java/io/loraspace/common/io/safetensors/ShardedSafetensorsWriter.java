package io.loraspace.common.io.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes a checkpoint as shards of at most {@code maxShardBytes} of tensor data each
 * ({@code model-00001-of-0000N.safetensors}) plus {@code model.safetensors.index.json} with {@code metadata.total_size}
 * and {@code weight_map}, the layout HF transformers reads. Tensors are assigned to shards in name order. Every file is
 * written atomically; the index is written last, so a directory without an index is not a complete checkpoint.
 */
public final class ShardedSafetensorsWriter {
  private final long maxShardBytes;
  private final Map<String, Object[]> pending = new TreeMap<>();
  private final Map<String, String> metadata = new TreeMap<>();

  public ShardedSafetensorsWriter(long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new ArgumentException("maxShardBytes is " + maxShardBytes + ", expected > 0");
    }
    this.maxShardBytes = maxShardBytes;
  }

  /** Metadata written into every shard's {@code __metadata__} (e.g. {@code format=pt}). */
  public ShardedSafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  public ShardedSafetensorsWriter addMatrix(String name, Dtype dtype, DenseMatrix m) {
    return add(name, dtype, new long[] {m.rows(), m.cols()}, m.toRowMajor());
  }

  public ShardedSafetensorsWriter add(String name, Dtype dtype, long[] shape, double[] values) {
    // Validate now (shape, dtype) so errors surface at the call that caused them.
    new SafetensorsWriter().add(name, dtype, shape, values);
    if (pending.put(name, new Object[] {dtype, shape.clone(), values}) != null) {
      throw new ArgumentException("Tensor '" + name + "' added twice");
    }
    return this;
  }

  /** Writes shards and the index into {@code dir}; returns the shard file names. */
  public List<String> write(Path dir) {
    List<List<String>> shards = new ArrayList<>();
    List<String> current = new ArrayList<>();
    long used = 0;
    for (Map.Entry<String, Object[]> e : pending.entrySet()) {
      long bytes = ((double[]) e.getValue()[2]).length * (long) ((Dtype) e.getValue()[0]).size();
      if (!current.isEmpty() && used + bytes > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        used = 0;
      }
      current.add(e.getKey());
      used += bytes;
    }
    if (!current.isEmpty() || shards.isEmpty()) {
      shards.add(current);
    }
    int n = shards.size();
    Map<String, String> weightMap = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < n; i++) {
      String file = n == 1 ? ShardedCheckpoint.SINGLE
          : String.format("model-%05d-of-%05d.safetensors", i + 1, n);
      SafetensorsWriter w = new SafetensorsWriter().metadata(metadata);
      for (String t : shards.get(i)) {
        Object[] v = pending.get(t);
        w.add(t, (Dtype) v[0], (long[]) v[1], (double[]) v[2]);
        weightMap.put(t, file);
      }
      total += w.dataBytes();
      w.write(dir.resolve(file));
      names.add(file);
    }
    if (n > 1) {
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      ObjectNode root = json.createObjectNode();
      root.putObject("metadata").put("total_size", total);
      ObjectNode wm = root.putObject("weight_map");
      weightMap.forEach(wm::put);
      Path index = dir.resolve(ShardedCheckpoint.INDEX);
      Path tmp = dir.resolve("." + ShardedCheckpoint.INDEX + ".tmp-" + UUID.randomUUID());
      try {
        Files.write(tmp, json.writeValueAsBytes(root));
        Files.move(tmp, index, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // The original failure is what matters.
        }
        throw new StateException("Cannot write '" + index + "': " + e.getMessage(), e);
      }
    }
    return names;
  }
}
