package io.loraspace.jobs.cli;

import io.loraspace.common.error.ArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Resolves a job's options in a fixed order: command line ({@code --set key=value}) over conf files (later files over
 * earlier ones) over declared defaults. Parsing is strict: an unknown key, a malformed line or a bad value fails with
 * one line naming the key (and the file and line for conf files).
 *
 * <p>Conf files hold {@code key = value} lines; {@code #} starts a comment line. A key may be prefixed with a job name
 * ({@code stats.max-task-memory = 2g}) to apply to that job only, so one file can configure a pipeline; keys prefixed
 * with another job's name are ignored. Keys starting with {@code spark.} are Spark settings and pass to the session.
 */
public final class OptionResolver {
  private final String jobName;
  private final OptionSpec spec;
  private final Set<String> otherJobNames;

  public OptionResolver(String jobName, OptionSpec spec, Set<String> allJobNames) {
    this.jobName = jobName;
    this.spec = spec;
    this.otherJobNames = new java.util.HashSet<>(allJobNames);
    this.otherJobNames.remove(jobName);
  }

  /** Resolves options from conf files then command-line settings (each "key=value"). */
  public Options resolve(List<Path> confFiles, List<String> commandLineSettings) {
    Map<String, String> texts = new LinkedHashMap<>();
    Map<String, Options.Source> sources = new LinkedHashMap<>();
    Map<String, String> spark = new LinkedHashMap<>();
    for (Path file : confFiles) {
      readConf(file, texts, sources, spark);
    }
    for (String setting : commandLineSettings) {
      int eq = setting.indexOf('=');
      if (eq <= 0) {
        throw new ArgumentException("--set '" + setting + "' is not of the form key=value");
      }
      accept(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim(), Options.Source.COMMAND_LINE,
          "--set", texts, sources, spark);
    }
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> resolvedTexts = new LinkedHashMap<>();
    Map<String, Options.Source> resolvedSources = new LinkedHashMap<>();
    for (OptionSpec.Def def : spec.defs().values()) {
      String text = texts.get(def.key());
      Options.Source source = sources.get(def.key());
      if (text == null) {
        if (def.required()) {
          throw new ArgumentException("Option '" + def.key() + "' is required (" + def.doc()
              + "): set it in a conf file or with --set " + def.key() + "=...");
        }
        text = def.defaultText();
        source = Options.Source.DEFAULT;
      }
      values.put(def.key(), def.parse(text));
      resolvedTexts.put(def.key(), text);
      resolvedSources.put(def.key(), source);
    }
    return new Options(spec, values, resolvedTexts, resolvedSources, spark);
  }

  private void readConf(Path file, Map<String, String> texts, Map<String, Options.Source> sources,
      Map<String, String> spark) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ArgumentException("Conf file '" + file + "' does not exist");
    } catch (IOException e) {
      throw new ArgumentException("Conf file '" + file + "' cannot be read: " + e.getMessage(), e);
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      String where = file + ":" + (i + 1);
      if (eq <= 0) {
        throw new ArgumentException(where + ": line '" + line + "' is not of the form key = value");
      }
      accept(line.substring(0, eq).trim(), line.substring(eq + 1).trim(), Options.Source.CONF, where, texts, sources,
          spark);
    }
  }

  private void accept(String rawKey, String value, Options.Source source, String where, Map<String, String> texts,
      Map<String, Options.Source> sources, Map<String, String> spark) {
    if (rawKey.startsWith("spark.")) {
      spark.put(rawKey, value);
      return;
    }
    String key = rawKey;
    int dot = rawKey.indexOf('.');
    if (dot > 0) {
      String prefix = rawKey.substring(0, dot);
      if (prefix.equals(jobName)) {
        key = rawKey.substring(dot + 1);
      } else if (otherJobNames.contains(prefix)) {
        return;
      }
    }
    OptionSpec.Def def = spec.get(key);
    if (def == null) {
      throw new ArgumentException(where + ": unknown option '" + rawKey + "' for job '" + jobName
          + "' (see: loraspace " + jobName + " --help)");
    }
    try {
      def.parse(value); // fail early, naming the key, at the place the value came from
    } catch (ArgumentException e) {
      throw new ArgumentException(where + ": " + e.getMessage(), e);
    }
    texts.put(key, value);
    sources.put(key, source);
  }
}
