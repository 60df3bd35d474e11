package io.loraspace.jobs.stats;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Splits the statistics keys of a run into passes over the input so that the accumulators one task holds at a time fit
 * the per-task memory budget. First-fit decreasing by size, which is deterministic for a given key list (keys of equal
 * size keep their name order), so re-runs plan the same passes. A key larger than the budget on its own fails: no
 * pass could hold it.
 */
public final class PassPlanner {
  private PassPlanner() {}

  /** A key and the bytes its accumulators take in one task. */
  public static final class KeyCost {
    private final String key;
    private final long bytes;

    public KeyCost(String key, long bytes) {
      this.key = key;
      this.bytes = bytes;
    }

    public String key() {
      return key;
    }

    public long bytes() {
      return bytes;
    }
  }

  /** Returns the passes, each a list of keys whose bytes sum to at most {@code budgetBytes}. */
  public static List<List<String>> plan(List<KeyCost> keys, long budgetBytes) {
    List<KeyCost> sorted = new ArrayList<>(keys);
    sorted.sort(Comparator.comparingLong(KeyCost::bytes).reversed().thenComparing(KeyCost::key));
    List<List<String>> passes = new ArrayList<>();
    List<Long> used = new ArrayList<>();
    for (KeyCost k : sorted) {
      if (k.bytes > budgetBytes) {
        throw new ArgumentException("Statistics key '" + k.key + "' needs " + k.bytes + " bytes of accumulators, more"
            + " than the per-task budget max-task-memory=" + budgetBytes + "; raise max-task-memory");
      }
      int slot = -1;
      for (int p = 0; p < passes.size(); p++) {
        if (used.get(p) + k.bytes <= budgetBytes) {
          slot = p;
          break;
        }
      }
      if (slot < 0) {
        passes.add(new ArrayList<>());
        used.add(0L);
        slot = passes.size() - 1;
      }
      passes.get(slot).add(k.key);
      used.set(slot, used.get(slot) + k.bytes);
    }
    return passes;
  }
}
