package io.loraspace.jobs.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code manifest.json} of one run: inputs, parameters, versions, counts, timings and output checksums. Jobs add
 * inputs, counts and job-specific sections while they run; the framework fills in the rest at commit. Thread-safe for
 * the driver's use (jobs may record from listener threads).
 */
public final class Manifest {
  public static final String FORMAT = "loraspace-manifest";
  public static final int FORMAT_VERSION = 1;
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final ObjectNode root = JSON.createObjectNode();
  private final ArrayNode inputs = JSON.createArrayNode();
  private final ObjectNode counts = JSON.createObjectNode();
  private final ObjectNode timings = JSON.createObjectNode();
  private final Map<String, JsonNode> sections = new LinkedHashMap<>();

  public Manifest() {
    root.put("format", FORMAT);
    root.put("formatVersion", FORMAT_VERSION);
  }

  /** Records an input (a path or URI, optionally with a description such as its size or row count). */
  public synchronized Manifest input(String uri, String description) {
    ObjectNode n = inputs.addObject();
    n.put("uri", uri);
    if (description != null) {
      n.put("description", description);
    }
    return this;
  }

  public synchronized Manifest count(String key, long value) {
    counts.put(key, value);
    return this;
  }

  public synchronized Manifest addCount(String key, long delta) {
    counts.put(key, counts.path(key).asLong(0) + delta);
    return this;
  }

  public synchronized Manifest timing(String phase, double seconds) {
    timings.put(phase, Math.round(seconds * 1000.0) / 1000.0);
    return this;
  }

  /** A job-specific section (e.g. "passes", "reward table"); replaces an earlier one of the same name. */
  public synchronized Manifest section(String name, JsonNode value) {
    sections.put(name, value);
    return this;
  }

  public synchronized long countOf(String key) {
    return counts.path(key).asLong(0);
  }

  public static ObjectMapper json() {
    return JSON;
  }

  /** Sets a top-level field owned by the framework. */
  public synchronized void putField(String key, JsonNode value) {
    root.set(key, value);
  }

  public synchronized ObjectNode render() {
    ObjectNode out = root.deepCopy();
    out.set("inputs", inputs.deepCopy());
    out.set("counts", counts.deepCopy());
    out.set("timings", timings.deepCopy());
    for (Map.Entry<String, JsonNode> e : sections.entrySet()) {
      out.set(e.getKey(), e.getValue().deepCopy());
    }
    return out;
  }
}
