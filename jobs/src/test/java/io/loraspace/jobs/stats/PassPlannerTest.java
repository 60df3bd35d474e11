package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PassPlannerTest {
  @Test
  void everythingFitsInOnePassWhenTheBudgetAllows() {
    List<List<String>> passes = PassPlanner.plan(List.of(new PassPlanner.KeyCost("a", 10),
        new PassPlanner.KeyCost("b", 20)), 30);
    assertThat(passes).hasSize(1);
    assertThat(passes.get(0)).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void noKeyIsLostOrDuplicatedAndEveryPassFitsTheBudget() {
    Random rnd = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      long budget = 50 + rnd.nextInt(200);
      List<PassPlanner.KeyCost> keys = new ArrayList<>();
      Map<String, Long> size = new HashMap<>();
      int n = rnd.nextInt(30);
      for (int i = 0; i < n; i++) {
        long b = 1 + rnd.nextInt((int) budget);
        keys.add(new PassPlanner.KeyCost("k" + i, b));
        size.put("k" + i, b);
      }
      List<List<String>> passes = PassPlanner.plan(keys, budget);
      Set<String> seen = new HashSet<>();
      long total = 0;
      for (List<String> pass : passes) {
        long used = 0;
        for (String k : pass) {
          assertThat(seen.add(k)).as("key %s planned twice", k).isTrue();
          used += size.get(k);
        }
        assertThat(used).isLessThanOrEqualTo(budget);
        total += used;
      }
      assertThat(seen).hasSize(n);
      // First-fit decreasing never uses more than 2x the lower bound of passes (plus one).
      assertThat((long) passes.size()).isLessThanOrEqualTo(2 * ((total + budget - 1) / budget) + 1);
    }
  }

  @Test
  void planIsDeterministic() {
    List<PassPlanner.KeyCost> keys = List.of(new PassPlanner.KeyCost("x", 5), new PassPlanner.KeyCost("a", 5),
        new PassPlanner.KeyCost("m", 7));
    assertThat(PassPlanner.plan(keys, 10)).isEqualTo(List.of(List.of("m"), List.of("a", "x")));
  }

  @Test
  void keyLargerThanTheBudgetFailsNamingIt() {
    assertThatThrownBy(() -> PassPlanner.plan(List.of(new PassPlanner.KeyCost("plus/site0", 100)), 99))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Statistics key 'plus/site0' needs 100 bytes of accumulators, more than the per-task budget "
            + "max-task-memory=99; raise max-task-memory");
  }
}
