package io.loraspace.jobs.cli;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The declared options of one job: key (kebab-case), type, default (null when required), one-line documentation and an
 * optional check of the parsed value. Immutable; built with {@link #builder()}. The {@code --help} of a job is printed
 * from this, so every option a job reads must be declared here.
 */
public final class OptionSpec {
  /** One declared option. {@code defaultText} is null for required options. */
  public static final class Def {
    private final String key;
    private final OptionType type;
    private final String defaultText;
    private final String doc;
    private final Predicate<Object> check;
    private final String checkDoc;

    Def(String key, OptionType type, String defaultText, String doc, Predicate<Object> check, String checkDoc) {
      this.key = key;
      this.type = type;
      this.defaultText = defaultText;
      this.doc = doc;
      this.check = check;
      this.checkDoc = checkDoc;
    }

    public String key() {
      return key;
    }

    public OptionType type() {
      return type;
    }

    public String defaultText() {
      return defaultText;
    }

    public boolean required() {
      return defaultText == null;
    }

    public String doc() {
      return doc;
    }

    public String checkDoc() {
      return checkDoc;
    }

    /** Parses and checks {@code text}; failures name the key and the value. */
    public Object parse(String text) {
      Object v = type.parse(key, text);
      if (check != null && !check.test(v)) {
        throw new ArgumentException("Option '" + key + "' has value '" + text + "', expected " + checkDoc);
      }
      return v;
    }
  }

  private final Map<String, Def> defs;

  private OptionSpec(Map<String, Def> defs) {
    this.defs = Collections.unmodifiableMap(new LinkedHashMap<>(defs));
  }

  public static Builder builder() {
    return new Builder();
  }

  public Map<String, Def> defs() {
    return defs;
  }

  public Def get(String key) {
    return defs.get(key);
  }

  /** A new spec with {@code other}'s options appended; a key declared twice is a programming error. */
  public OptionSpec plus(OptionSpec other) {
    Builder b = new Builder();
    b.defs.putAll(defs);
    for (Def d : other.defs.values()) {
      b.add(d);
    }
    return b.build();
  }

  /** A new spec without the given keys (each must be declared: a missing one is a programming error). */
  public OptionSpec without(String... keys) {
    Map<String, Def> kept = new LinkedHashMap<>(defs);
    for (String k : keys) {
      if (kept.remove(k) == null) {
        throw new IllegalArgumentException("Option key '" + k + "' is not declared");
      }
    }
    return new OptionSpec(kept);
  }

  /** Builds an {@link OptionSpec}; keys must be kebab-case and unique. */
  public static final class Builder {
    private final Map<String, Def> defs = new LinkedHashMap<>();

    private Builder add(Def d) {
      if (!d.key.matches("[a-z][a-z0-9]*(-[a-z0-9]+)*(\\.[a-z][a-z0-9]*(-[a-z0-9]+)*)*")) {
        throw new IllegalArgumentException("Option key '" + d.key + "' is not kebab-case");
      }
      if (defs.put(d.key, d) != null) {
        throw new IllegalArgumentException("Option key '" + d.key + "' declared twice");
      }
      return this;
    }

    /** Declares an option; {@code defaultText} null makes it required. */
    public Builder option(String key, OptionType type, String defaultText, String doc) {
      return add(new Def(key, type, defaultText, doc, null, null));
    }

    /** Declares an option with a check on the parsed value, described by {@code checkDoc} in errors and help. */
    public Builder option(
        String key, OptionType type, String defaultText, String doc, Predicate<Object> check, String checkDoc) {
      return add(new Def(key, type, defaultText, doc, check, checkDoc));
    }

    /** An int option that must lie in [min, max]. */
    public Builder intOption(String key, int defaultValue, int min, int max, String doc) {
      return option(key, OptionType.INT, Integer.toString(defaultValue), doc,
          v -> (Integer) v >= min && (Integer) v <= max, "an int in [" + min + ", " + max + "]");
    }

    /** A long option that must lie in [min, max]; accepts k/m/g/t suffixes. */
    public Builder longOption(String key, long defaultValue, long min, long max, String doc) {
      return option(key, OptionType.LONG, Long.toString(defaultValue), doc,
          v -> (Long) v >= min && (Long) v <= max, "a long in [" + min + ", " + max + "]");
    }

    /** A string option restricted to a set of choices. */
    public Builder choice(String key, String defaultValue, List<String> choices, String doc) {
      List<String> copy = List.copyOf(choices);
      return option(key, OptionType.STRING, defaultValue, doc, copy::contains, "one of " + copy);
    }

    public OptionSpec build() {
      return new OptionSpec(defs);
    }
  }

  /** Names of options, in declaration order. */
  public List<String> keys() {
    return new ArrayList<>(defs.keySet());
  }
}
