package io.loraspace.jobs.output;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes credentials from everything a run records (manifest, reports, log lines), with Spark's own rule: a setting
 * whose key matches {@code spark.redaction.regex} (default {@value #DEFAULT_KEY_REGEX}) has its value replaced by
 * {@value #REDACTED}; parts of any value matching {@code spark.redaction.string.regex} (no default) are replaced too;
 * and the user-info part of a URI ({@code s3a://KEY:SECRET@bucket/…}) is always removed.
 *
 * <p>The rule is resolved once per run from the same settings the Spark session sees (spark-submit's system
 * properties, conf files, {@code --set}), so what a user configured for Spark's UI and event logs applies here too.
 */
public final class Redaction {
  /** Spark's default for {@code spark.redaction.regex} (Spark 4.0 {@code SECRET_REDACTION_PATTERN}). */
  public static final String DEFAULT_KEY_REGEX = "(?i)secret|password|token|access[.]?key";
  /** What Spark writes in place of a redacted value. */
  public static final String REDACTED = "*********(redacted)";

  private static final Pattern URI_USER_INFO = Pattern.compile("([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@\\s]+)@");

  private final Pattern keyPattern;
  private final Pattern valuePattern;

  public Redaction(String keyRegex, String valueRegex) {
    this.keyPattern = Pattern.compile(keyRegex == null || keyRegex.isEmpty() ? DEFAULT_KEY_REGEX : keyRegex);
    this.valuePattern = valueRegex == null || valueRegex.isEmpty() ? null : Pattern.compile(valueRegex);
  }

  /**
   * The rule of a run: {@code spark.redaction.regex} and {@code spark.redaction.string.regex} from the user's Spark
   * settings, else from JVM system properties (where spark-submit puts its {@code --conf} and spark-defaults).
   */
  public static Redaction of(Map<String, String> sparkSettings) {
    return new Redaction(setting(sparkSettings, "spark.redaction.regex"),
        setting(sparkSettings, "spark.redaction.string.regex"));
  }

  private static String setting(Map<String, String> sparkSettings, String key) {
    String v = sparkSettings.get(key);
    return v != null ? v : System.getProperty(key);
  }

  /** True when a setting of this name holds a secret. */
  public boolean isSecretKey(String key) {
    return keyPattern.matcher(key).find();
  }

  /** The value to record for a setting {@code key = value}. */
  public String value(String key, String value) {
    if (value == null) {
      return null;
    }
    if (isSecretKey(key)) {
      return REDACTED;
    }
    return text(value);
  }

  /** Free text (a URI, a message) with URI user-info and matches of the value regex removed. */
  public String text(String text) {
    if (text == null) {
      return null;
    }
    String out = URI_USER_INFO.matcher(text).replaceAll("$1" + Matcher.quoteReplacement(REDACTED) + "@");
    if (valuePattern != null) {
      out = valuePattern.matcher(out).replaceAll(Matcher.quoteReplacement(REDACTED));
    }
    return out;
  }

  /**
   * A copy of a job's own options (not {@code spark.*} settings) for the record: their names are ours and none holds a
   * credential (credentials reach the jobs only as Spark/Hadoop settings or inside URIs), so the key rule is not
   * applied to them — it would hide {@code tokens} (the token corpus), {@code max-tokens} and the like — but every
   * value still loses URI user-info and matches of the value regex. A {@code spark.*} key among them keeps the full
   * rule.
   */
  public Map<String, String> jobOptions(Map<String, String> options) {
    Map<String, String> out = new LinkedHashMap<>();
    options.forEach((k, v) -> out.put(k, k.startsWith("spark.") ? value(k, v) : text(v)));
    return out;
  }

  /** A copy of {@code settings} with every value passed through {@link #value}. */
  public Map<String, String> settings(Map<String, String> settings) {
    Map<String, String> out = new LinkedHashMap<>();
    settings.forEach((k, v) -> out.put(k, value(k, v)));
    return out;
  }
}
