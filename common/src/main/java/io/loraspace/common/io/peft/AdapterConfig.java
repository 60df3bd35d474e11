package io.loraspace.common.io.peft;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An HF PEFT LoRA {@code adapter_config.json}, backed by the JSON object itself so fields this class does not know
 * survive a read-modify-write. Typed accessors cover what loraspace reads and writes.
 *
 * <p>Per-module rank and alpha follow PEFT 0.21 ({@code peft.utils.other.get_pattern_key}): the keys of
 * {@code rank_pattern}/{@code alpha_pattern} are tried in order and the first key {@code k} for which the module name
 * matches the regex {@code (.*\.)?(k)$} wins; otherwise {@code r}/{@code lora_alpha}. Scaling is {@code alpha/r}, or
 * {@code alpha/sqrt(r)} with {@code use_rslora}.
 */
public final class AdapterConfig {
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private final ObjectNode root;

  private AdapterConfig(ObjectNode root) {
    this.root = root;
  }

  /** A new LoRA config with PEFT's defaults for the fields loraspace uses. */
  public static AdapterConfig lora(int r, double loraAlpha, List<String> targetModules) {
    ObjectNode n = JSON.createObjectNode();
    n.put("peft_type", "LORA");
    n.putNull("task_type");
    n.putNull("base_model_name_or_path");
    n.put("r", r);
    putNumber(n, "lora_alpha", loraAlpha);
    n.put("lora_dropout", 0.0);
    n.put("bias", "none");
    n.put("use_rslora", false);
    n.put("fan_in_fan_out", false);
    n.put("inference_mode", true);
    n.put("init_lora_weights", true);
    ArrayNode t = n.putArray("target_modules");
    targetModules.forEach(t::add);
    n.putObject("rank_pattern");
    n.putObject("alpha_pattern");
    AdapterConfig c = new AdapterConfig(n);
    c.validate("new config");
    return c;
  }

  /** Parses config JSON; {@code where} names the file for errors. */
  public static AdapterConfig parse(byte[] json, String where) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new FormatException(where + ": not valid JSON: " + e.getMessage().split("\n")[0]);
    }
    if (n == null || !n.isObject()) {
      throw new FormatException(where + ": not a JSON object");
    }
    AdapterConfig c = new AdapterConfig((ObjectNode) n);
    c.validate(where);
    return c;
  }

  private void validate(String where) {
    String type = root.path("peft_type").asText("");
    if (!type.equals("LORA")) {
      throw new FormatException(where + ": peft_type is '" + type + "', expected 'LORA'");
    }
    if (!root.path("r").canConvertToInt() || root.path("r").asInt() <= 0) {
      throw new FormatException(where + ": r is " + root.get("r") + ", expected a positive integer");
    }
    if (!root.path("lora_alpha").isNumber()) {
      throw new FormatException(where + ": lora_alpha is " + root.get("lora_alpha") + ", expected a number");
    }
    for (String p : List.of("rank_pattern", "alpha_pattern")) {
      JsonNode m = root.get(p);
      if (m != null && !m.isNull() && !m.isObject()) {
        throw new FormatException(where + ": " + p + " is not an object");
      }
      if (m != null && m.isObject()) {
        Iterator<Map.Entry<String, JsonNode>> it = m.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          try {
            Pattern.compile(e.getKey());
          } catch (PatternSyntaxException ex) {
            throw new FormatException(where + ": " + p + " key '" + e.getKey() + "' is not a valid regex");
          }
          if (!e.getValue().isNumber() || (p.equals("rank_pattern") && e.getValue().asInt() <= 0)) {
            throw new FormatException(where + ": " + p + " value for '" + e.getKey() + "' is " + e.getValue()
                + ", expected a positive number");
          }
        }
      }
    }
  }

  private static void putNumber(ObjectNode n, String key, double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      n.put(key, (long) v);
    } else {
      n.put(key, v);
    }
  }

  /** The JSON bytes (pretty-printed). */
  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A deep copy. */
  public AdapterConfig copy() {
    return new AdapterConfig(root.deepCopy());
  }

  /** The underlying JSON object (mutations are visible; use the typed setters where they exist). */
  public ObjectNode json() {
    return root;
  }

  public int r() {
    return root.path("r").asInt();
  }

  public double loraAlpha() {
    return root.path("lora_alpha").asDouble();
  }

  public boolean useRslora() {
    return root.path("use_rslora").asBoolean(false);
  }

  public String baseModelNameOrPath() {
    JsonNode n = root.get("base_model_name_or_path");
    return n == null || n.isNull() ? null : n.asText();
  }

  public String taskType() {
    JsonNode n = root.get("task_type");
    return n == null || n.isNull() ? null : n.asText();
  }

  /** {@code target_modules} as a list; a single regex string comes back as a one-element list. */
  public List<String> targetModules() {
    List<String> out = new ArrayList<>();
    JsonNode n = root.get("target_modules");
    if (n == null || n.isNull()) {
      return out;
    }
    if (n.isTextual()) {
      out.add(n.asText());
    } else {
      n.forEach(x -> out.add(x.asText()));
    }
    return out;
  }

  /** True when {@code target_modules} is one regex string (PEFT then full-matches module names against it). */
  public boolean targetModulesIsRegex() {
    JsonNode n = root.get("target_modules");
    return n != null && n.isTextual();
  }

  /**
   * Whether PEFT would adapt a module of this name: with a regex string, a full match; with a list, equality or a
   * suffix after a dot ({@code peft.tuners.tuners_utils.check_target_module_exists}).
   */
  public boolean targets(String moduleName) {
    if (targetModulesIsRegex()) {
      return Pattern.compile(targetModules().get(0)).matcher(moduleName).matches();
    }
    for (String t : targetModules()) {
      if (moduleName.equals(t) || moduleName.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  public Map<String, Double> rankPattern() {
    return pattern("rank_pattern");
  }

  public Map<String, Double> alphaPattern() {
    return pattern("alpha_pattern");
  }

  private Map<String, Double> pattern(String key) {
    Map<String, Double> out = new LinkedHashMap<>();
    JsonNode n = root.get(key);
    if (n != null && n.isObject()) {
      n.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asDouble()));
    }
    return out;
  }

  /** PEFT's pattern lookup: the first key k with {@code module} matching {@code (.*\.)?(k)$}, or null. */
  static String patternKey(Iterable<String> keys, String module) {
    for (String k : keys) {
      if (Pattern.compile("(.*\\.)?(" + k + ")").matcher(module).matches()) {
        return k;
      }
    }
    return null;
  }

  /** The rank PEFT gives {@code module}. */
  public int rankOf(String module) {
    Map<String, Double> p = rankPattern();
    String k = patternKey(p.keySet(), module);
    return k == null ? r() : (int) Math.round(p.get(k));
  }

  /** The lora_alpha PEFT gives {@code module}. */
  public double alphaOf(String module) {
    Map<String, Double> p = alphaPattern();
    String k = patternKey(p.keySet(), module);
    return k == null ? loraAlpha() : p.get(k);
  }

  /** The factor s of {@code ΔW = s·B·A} for {@code module}: alpha/r, or alpha/sqrt(r) with rslora. */
  public double scaling(String module) {
    int r = rankOf(module);
    double a = alphaOf(module);
    return useRslora() ? a / Math.sqrt(r) : a / r;
  }

  public AdapterConfig setBaseModelNameOrPath(String v) {
    root.put("base_model_name_or_path", v);
    return this;
  }

  public AdapterConfig setTaskType(String v) {
    root.put("task_type", v);
    return this;
  }

  public AdapterConfig setUseRslora(boolean v) {
    root.put("use_rslora", v);
    return this;
  }

  /** Sets {@code init_lora_weights} to a string (e.g. "pissa", "corda", "eva") or back to true. */
  public AdapterConfig setInitLoraWeights(String v) {
    if (v == null) {
      root.put("init_lora_weights", true);
    } else {
      root.put("init_lora_weights", v);
    }
    return this;
  }

  public AdapterConfig putRankPattern(String key, int r) {
    if (r <= 0) {
      throw new ArgumentException("rank_pattern value for '" + key + "' is " + r + ", expected > 0");
    }
    objectField("rank_pattern").put(key, r);
    return this;
  }

  public AdapterConfig putAlphaPattern(String key, double alpha) {
    putNumber(objectField("alpha_pattern"), key, alpha);
    return this;
  }

  private ObjectNode objectField(String key) {
    JsonNode n = root.get(key);
    if (n == null || !n.isObject()) {
      return root.putObject(key);
    }
    return (ObjectNode) n;
  }
}
