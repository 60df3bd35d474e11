package io.loraspace.jobs.cli;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** The value types a job option can have, with their strict text parsers. */
public enum OptionType {
  STRING("string"),
  INT("int"),
  LONG("long"),
  DOUBLE("double"),
  BOOLEAN("boolean"),
  STRING_LIST("comma-separated strings"),
  INT_LIST("comma-separated ints"),
  DOUBLE_LIST("comma-separated doubles");

  private final String description;

  OptionType(String description) {
    this.description = description;
  }

  public String description() {
    return description;
  }

  /**
   * Parses {@code text} for option {@code key}; a bad value fails naming the key, the value and the expected type.
   * Sizes accept binary suffixes for INT and LONG ({@code 64m}, {@code 2g}, {@code 512k}).
   */
  public Object parse(String key, String text) {
    String t = text.trim();
    try {
      switch (this) {
        case STRING:
          return t;
        case INT:
          return Math.toIntExact(parseLong(t));
        case LONG:
          return parseLong(t);
        case DOUBLE:
          return parseDouble(t);
        case BOOLEAN:
          return parseBoolean(t);
        case STRING_LIST:
          return splitList(t);
        case INT_LIST: {
          List<Integer> out = new ArrayList<>();
          for (String s : splitList(t)) {
            out.add(Math.toIntExact(parseLong(s)));
          }
          return Collections.unmodifiableList(out);
        }
        case DOUBLE_LIST: {
          List<Double> out = new ArrayList<>();
          for (String s : splitList(t)) {
            out.add(parseDouble(s));
          }
          return Collections.unmodifiableList(out);
        }
        default:
          throw new IllegalStateException(name());
      }
    } catch (NumberFormatException | ArithmeticException e) {
      throw new ArgumentException("Option '" + key + "' has value '" + text + "', expected " + description);
    }
  }

  private static long parseLong(String t) {
    String s = t.toLowerCase(Locale.ROOT).replace("_", "");
    long mult = 1;
    if (s.endsWith("k")) {
      mult = 1L << 10;
    } else if (s.endsWith("m")) {
      mult = 1L << 20;
    } else if (s.endsWith("g")) {
      mult = 1L << 30;
    } else if (s.endsWith("t")) {
      mult = 1L << 40;
    }
    if (mult != 1) {
      s = s.substring(0, s.length() - 1);
    }
    return Math.multiplyExact(Long.parseLong(s), mult);
  }

  private static double parseDouble(String t) {
    double v = Double.parseDouble(t);
    if (!Double.isFinite(v)) {
      throw new NumberFormatException(t);
    }
    return v;
  }

  private static boolean parseBoolean(String t) {
    switch (t.toLowerCase(Locale.ROOT)) {
      case "true":
      case "yes":
      case "on":
      case "1":
        return true;
      case "false":
      case "no":
      case "off":
      case "0":
        return false;
      default:
        throw new NumberFormatException(t);
    }
  }

  private static List<String> splitList(String t) {
    List<String> out = new ArrayList<>();
    if (t.isEmpty()) {
      return Collections.unmodifiableList(out);
    }
    for (String s : t.split(",", -1)) {
      String v = s.trim();
      if (v.isEmpty()) {
        throw new NumberFormatException("empty list element in '" + t + "'");
      }
      out.add(v);
    }
    return Collections.unmodifiableList(out);
  }
}
