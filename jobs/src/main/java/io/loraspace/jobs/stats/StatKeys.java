package io.loraspace.jobs.stats;

/**
 * String keys of the statistics shuffle. A key is a kind letter and its parts joined by U+0001, which cannot occur in
 * dataset, site or module names read from Parquet strings in practice and is rejected if it does.
 */
final class StatKeys {
  private StatKeys() {}

  static final char SEP = '\u0001';
  /** Token Gram of (dataset, site). */
  static final char TOKEN = 'T';
  /** Per-sample partial sum of (dataset, site, sample). */
  static final char SAMPLE = 'S';
  /** Cross product of (dataset, module). */
  static final char CROSS = 'X';
  /** Gradient diagonal of (dataset, module). */
  static final char DIAG = 'D';
  /** A sample with gradients for (dataset, module, sample). */
  static final char GRAD_SAMPLE = 'G';
  /** Output file of a site (dataset, site). */
  static final char SITE = 'W';
  /** Output file of a module (dataset, module). */
  static final char MODULE = 'M';
  /** Task counters (rows, bytes decoded, skipped tokens), summed over all tasks. */
  static final char COUNTERS = 'C';

  static String key(char kind, String... parts) {
    StringBuilder sb = new StringBuilder().append(kind);
    for (String p : parts) {
      if (p.indexOf(SEP) >= 0) {
        throw new io.loraspace.common.error.FormatException("Name '" + p.replace(SEP, '?')
            + "' contains the control character U+0001");
      }
      sb.append(SEP).append(p);
    }
    return sb.toString();
  }

  static char kind(String key) {
    return key.charAt(0);
  }

  static String[] parts(String key) {
    return key.substring(2).split(String.valueOf(SEP), -1);
  }

  static String site(String dataset, String site) {
    return dataset + SEP + site;
  }
}
