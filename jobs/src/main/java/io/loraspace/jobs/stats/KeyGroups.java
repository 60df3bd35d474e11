package io.loraspace.jobs.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a statistics pass over activation Parquet splits a file's keys over parallel tasks when there are fewer files
 * than task slots (one file of activations on a 2-core machine would otherwise keep one core idle for the whole pass).
 * The unit is a site with the modules whose gradients ride on its rows, so every row is decoded by exactly one task
 * (the others skip it undecoded), each key's partial over a file is the one a single task would compute, and the store
 * is the same bytes whatever the number of groups. Each group reads the whole file: the read is repeated, the decoding
 * and the products (d² per token) are not.
 */
final class KeyGroups {
  /** At most this many tasks read one file. */
  static final int MAX_GROUPS = 8;

  private KeyGroups() {}

  /** Groups per file: enough to fill the slots, at most one per unit and {@link #MAX_GROUPS}; 1 with enough files. */
  static int count(int files, int slots, int units) {
    if (files <= 0 || units <= 1 || files >= slots) {
      return 1;
    }
    int perFile = (slots + files - 1) / files;
    return Math.max(1, Math.min(Math.min(perFile, units), MAX_GROUPS));
  }

  /**
   * Splits the units (site key → cost in bytes of its accumulators, a proxy for its d² work per token) into {@code n}
   * groups of near-equal cost: largest first, each to the lightest group so far (ties to the lower index), so the
   * result depends only on the units.
   */
  static List<Set<String>> split(Map<String, Long> unitCost, int n) {
    List<Map.Entry<String, Long>> units = new ArrayList<>(unitCost.entrySet());
    units.sort(Comparator.comparing((Map.Entry<String, Long> e) -> e.getValue()).reversed()
        .thenComparing(Map.Entry::getKey));
    List<Set<String>> groups = new ArrayList<>();
    long[] load = new long[n];
    for (int i = 0; i < n; i++) {
      groups.add(new LinkedHashSet<>());
    }
    for (Map.Entry<String, Long> u : units) {
      int best = 0;
      for (int i = 1; i < n; i++) {
        if (load[i] < load[best]) {
          best = i;
        }
      }
      groups.get(best).add(u.getKey());
      load[best] += u.getValue();
    }
    groups.removeIf(Set::isEmpty);
    return groups;
  }
}
