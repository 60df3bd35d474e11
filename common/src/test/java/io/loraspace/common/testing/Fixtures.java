package io.loraspace.common.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Locates the committed interop fixtures (made by scripts/python/make_fixtures.py) and parses their expected values. */
public final class Fixtures {
  private Fixtures() {}

  public static Path path(String name) {
    try {
      return Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("Missing test fixture " + name, e);
    }
  }

  public static JsonNode json(String name) throws IOException {
    return new ObjectMapper().readTree(path(name).toFile());
  }

  /** Parses a float as written by Python's float.hex, or "nan", "inf", "-inf". */
  public static double hexDouble(String s) {
    switch (s) {
      case "nan":
        return Double.NaN;
      case "inf":
        return Double.POSITIVE_INFINITY;
      case "-inf":
        return Double.NEGATIVE_INFINITY;
      default:
        return Double.parseDouble(s);
    }
  }

  /** Hex string (float.hex style) of a double; NaN and infinities as Python spells them. */
  public static String toHex(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return Double.toHexString(v);
  }
}
