package io.loraspace.jobs.cli;

import io.loraspace.common.error.ArgumentException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The resolved, typed options of one job run, plus the Spark settings ({@code spark.*}) that came with them. Values
 * are parsed and checked once, by {@link OptionResolver}; getters only look up. Every declared key has a value except
 * optional ones whose default is the empty string.
 */
public final class Options {
  /** Where a value came from, for the manifest and {@code --help}. */
  public enum Source {
    DEFAULT, CONF, COMMAND_LINE
  }

  private final OptionSpec spec;
  private final Map<String, Object> values;
  private final Map<String, String> texts;
  private final Map<String, Source> sources;
  private final Map<String, String> sparkConf;

  Options(OptionSpec spec, Map<String, Object> values, Map<String, String> texts, Map<String, Source> sources,
      Map<String, String> sparkConf) {
    this.spec = spec;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    this.texts = Collections.unmodifiableMap(new LinkedHashMap<>(texts));
    this.sources = Collections.unmodifiableMap(new LinkedHashMap<>(sources));
    this.sparkConf = Collections.unmodifiableMap(new TreeMap<>(sparkConf));
  }

  private Object value(String key, OptionType expected) {
    OptionSpec.Def def = spec.get(key);
    if (def == null) {
      throw new IllegalArgumentException("Option '" + key + "' is not declared by this job");
    }
    if (def.type() != expected) {
      throw new IllegalArgumentException("Option '" + key + "' is " + def.type() + ", read as " + expected);
    }
    return values.get(key);
  }

  public String getString(String key) {
    return (String) value(key, OptionType.STRING);
  }

  /** The string value, or failure naming the key when it is empty (for options whose default is ""). */
  public String requireString(String key) {
    String v = getString(key);
    if (v == null || v.isEmpty()) {
      throw new ArgumentException("Option '" + key + "' is required: set it in the conf file or with --set "
          + key + "=...");
    }
    return v;
  }

  public int getInt(String key) {
    return (Integer) value(key, OptionType.INT);
  }

  public long getLong(String key) {
    return (Long) value(key, OptionType.LONG);
  }

  public double getDouble(String key) {
    return (Double) value(key, OptionType.DOUBLE);
  }

  public boolean getBoolean(String key) {
    return (Boolean) value(key, OptionType.BOOLEAN);
  }

  @SuppressWarnings("unchecked")
  public List<String> getStringList(String key) {
    return (List<String>) value(key, OptionType.STRING_LIST);
  }

  @SuppressWarnings("unchecked")
  public List<Integer> getIntList(String key) {
    return (List<Integer>) value(key, OptionType.INT_LIST);
  }

  @SuppressWarnings("unchecked")
  public List<Double> getDoubleList(String key) {
    return (List<Double>) value(key, OptionType.DOUBLE_LIST);
  }

  public Source source(String key) {
    return sources.get(key);
  }

  /** The resolved values as text, in declaration order: what the manifest records and the fingerprint hashes. */
  public Map<String, String> asText() {
    return texts;
  }

  /** The {@code spark.*} settings from conf files and the command line. */
  public Map<String, String> sparkConf() {
    return sparkConf;
  }

  public Map<String, Source> sources() {
    return sources;
  }

  public OptionSpec spec() {
    return spec;
  }
}
