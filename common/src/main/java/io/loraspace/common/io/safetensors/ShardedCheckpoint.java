package io.loraspace.common.io.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model checkpoint that may be split into shards: a directory with {@code model.safetensors.index.json}
 * ({@code weight_map}: tensor name → shard file, optional {@code metadata}), a directory with a single
 * {@code model.safetensors}, or a path to one {@code .safetensors} file. Shards are opened lazily, once, and closed
 * with the checkpoint. Every tensor the index names must exist in its shard (checked when the shard opens).
 */
public final class ShardedCheckpoint implements AutoCloseable {
  public static final String INDEX = "model.safetensors.index.json";
  public static final String SINGLE = "model.safetensors";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final Path location;
  private final Map<String, String> weightMap;
  private final Map<String, String> indexMetadata;
  private final Map<String, SafetensorsFile> open = new TreeMap<>();
  private final Path dir;
  private final String indexLabel;

  private ShardedCheckpoint(Path location, Path dir, Map<String, String> weightMap, Map<String, String> indexMetadata,
      String indexLabel) {
    this.location = location;
    this.dir = dir;
    this.weightMap = Collections.unmodifiableMap(weightMap);
    this.indexMetadata = Collections.unmodifiableMap(indexMetadata);
    this.indexLabel = indexLabel;
  }

  /** Opens a checkpoint directory (sharded or single file) or a single safetensors file. */
  public static ShardedCheckpoint open(Path location) {
    if (Files.isRegularFile(location)) {
      return single(location, location.toAbsolutePath().getParent());
    }
    if (!Files.isDirectory(location)) {
      throw new FormatException(location + ": no such checkpoint file or directory");
    }
    Path index = location.resolve(INDEX);
    if (Files.isRegularFile(index)) {
      return fromIndex(location, index);
    }
    Path single = location.resolve(SINGLE);
    if (Files.isRegularFile(single)) {
      return single(single, location);
    }
    List<String> torch = new ArrayList<>();
    try (java.util.stream.Stream<Path> files = Files.list(location)) {
      files.map(f -> f.getFileName().toString()).filter(TorchWeights::isTorchWeightsName).sorted()
          .forEach(torch::add);
    } catch (IOException e) {
      throw new FormatException(location + ": cannot list: " + e.getMessage(), e);
    }
    String hint = TorchWeights.checkpointHint(location.toString(), torch);
    throw new FormatException(hint != null ? hint : location + ": neither " + INDEX + " nor " + SINGLE + " found");
  }

  private static ShardedCheckpoint single(Path file, Path dir) {
    SafetensorsFile f = SafetensorsFile.open(file);
    Map<String, String> map = new LinkedHashMap<>();
    for (String n : f.tensorNames()) {
      map.put(n, file.getFileName().toString());
    }
    ShardedCheckpoint c = new ShardedCheckpoint(file, dir, map, Map.of(), file.toString());
    c.open.put(file.getFileName().toString(), f);
    return c;
  }

  private static ShardedCheckpoint fromIndex(Path location, Path index) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(index));
    } catch (IOException e) {
      throw new FormatException(index + ": cannot read the index: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
      throw new FormatException(index + ": no weight_map object");
    }
    Map<String, String> map = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw new FormatException(index + ": weight_map entry '" + e.getKey() + "' is not a file name");
      }
      String shard = e.getValue().asText();
      if (shard.contains("/") || shard.contains("\\") || shard.equals("..")) {
        throw new FormatException(index + ": weight_map entry '" + e.getKey() + "' names '" + shard
            + "', outside the checkpoint directory");
      }
      if (!Files.isRegularFile(location.resolve(shard))) {
        throw new FormatException(index + ": tensor '" + e.getKey() + "' is in shard '" + shard
            + "', which does not exist");
      }
      map.put(e.getKey(), shard);
    }
    Map<String, String> meta = new LinkedHashMap<>();
    root.path("metadata").fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
    return new ShardedCheckpoint(location, location, map, meta, index.toString());
  }

  public Path location() {
    return location;
  }

  /** All tensor names across shards, in index order. */
  public List<String> tensorNames() {
    return new ArrayList<>(weightMap.keySet());
  }

  public boolean contains(String name) {
    return weightMap.containsKey(name);
  }

  /** The index's {@code metadata} (e.g. total_size); empty for single files. */
  public Map<String, String> indexMetadata() {
    return indexMetadata;
  }

  /** The shard holding {@code name}, opened (and validated) on first use. */
  public SafetensorsFile shardOf(String name) {
    String shard = weightMap.get(name);
    if (shard == null) {
      throw new FormatException(indexLabel + ": no tensor '" + name + "'");
    }
    SafetensorsFile f = open.get(shard);
    if (f == null) {
      f = SafetensorsFile.open(dir.resolve(shard));
      open.put(shard, f);
      for (Map.Entry<String, String> e : weightMap.entrySet()) {
        if (e.getValue().equals(shard) && !f.contains(e.getKey())) {
          throw new FormatException(indexLabel + ": tensor '" + e.getKey() + "' is mapped to shard '" + shard
              + "', which does not contain it");
        }
      }
    }
    return f;
  }

  public TensorInfo info(String name) {
    return shardOf(name).info(name);
  }

  public double[] readDoubles(String name) {
    return shardOf(name).readDoubles(name);
  }

  public DenseMatrix readMatrix(String name) {
    return shardOf(name).readMatrix(name);
  }

  @Override
  public void close() {
    for (SafetensorsFile f : open.values()) {
      f.close();
    }
    open.clear();
  }
}
