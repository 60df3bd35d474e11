package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyGroupsTest {
  @Test
  void groupsFillTheSlotsLeftByTooFewFiles() {
    assertThat(KeyGroups.count(1, 2, 16)).isEqualTo(2);
    assertThat(KeyGroups.count(1, 64, 16)).isEqualTo(KeyGroups.MAX_GROUPS);
    assertThat(KeyGroups.count(1, 64, 3)).isEqualTo(3);
    assertThat(KeyGroups.count(3, 8, 16)).isEqualTo(3);
    assertThat(KeyGroups.count(2, 2, 16)).isEqualTo(1);
    assertThat(KeyGroups.count(9, 4, 16)).isEqualTo(1);
    assertThat(KeyGroups.count(1, 8, 1)).isEqualTo(1);
  }

  @Test
  void splitBalancesCostLargestFirstAndDependsOnlyOnTheUnits() {
    Map<String, Long> cost = new LinkedHashMap<>();
    cost.put("a", 10L);
    cost.put("b", 9L);
    cost.put("c", 4L);
    cost.put("d", 4L);
    cost.put("e", 1L);
    List<Set<String>> g = KeyGroups.split(cost, 2);
    // a(10) -> 0, b(9) -> 1, c(4) -> 1 (13), d(4) -> 0 (14), e(1) -> 1 (14).
    assertThat(g).containsExactly(Set.of("a", "d"), Set.of("b", "c", "e"));
    Map<String, Long> reordered = new LinkedHashMap<>();
    List.of("e", "d", "c", "b", "a").forEach(k -> reordered.put(k, cost.get(k)));
    assertThat(KeyGroups.split(reordered, 2)).isEqualTo(g);
    assertThat(KeyGroups.split(Map.of("x", 5L), 3)).containsExactly(Set.of("x"));
  }
}
