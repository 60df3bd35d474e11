package io.loraspace.common.stats;

import static io.loraspace.common.stats.StatsTestSupport.assertBitwiseEqual;
import static io.loraspace.common.stats.StatsTestSupport.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.StateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DiagonalSecondMomentAccumulatorTest {

  private static double[] naive(double[] g, int rows, int d) {
    double[] s = new double[d];
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < d; j++) {
        s[j] += g[t * d + j] * g[t * d + j];
      }
    }
    return s;
  }

  private static List<DiagonalSecondMomentAccumulator> randomPartials(Random rnd, double[] g, int rows, int d,
      int parts) {
    List<DiagonalSecondMomentAccumulator> accs = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      accs.add(new DiagonalSecondMomentAccumulator(d));
    }
    int at = 0;
    for (int size : StatsTestSupport.randomSplit(rnd, rows)) {
      accs.get(rnd.nextInt(parts)).update(g, at * d, size);
      at += size;
    }
    return accs;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void anyBlockSplitAndMergeTreeMatchesNaiveReference(int d) {
    Random rnd = new Random(6000 + d);
    int rows = 400;
    double[] g = StatsTestSupport.rows(rnd, rows, d);
    double[] expected = naive(g, rows, d);
    for (int trial = 0; trial < 4; trial++) {
      DiagonalSecondMomentAccumulator total =
          StatsTestSupport.mergeRandomTree(rnd, randomPartials(rnd, g, rows, d, 1 + rnd.nextInt(6)));
      assertClose(total.sumSquares(), expected, "Σ g∘g d=" + d);
      assertThat(total.tokenCount()).isEqualTo(rows);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void mergeOrderPermutationsAgree(int d) {
    Random rnd = new Random(7000 + d);
    double[] g = StatsTestSupport.rows(rnd, 200, d);
    List<DiagonalSecondMomentAccumulator> parts = randomPartials(rnd, g, 200, d, 4);
    double[] expected = naive(g, 200, d);
    for (int perm = 0; perm < 3; perm++) {
      List<DiagonalSecondMomentAccumulator> order = StatsTestSupport.shuffledCopies(rnd, parts);
      for (int i = 1; i < order.size(); i++) {
        order.get(0).merge(order.get(i));
      }
      assertClose(order.get(0).sumSquares(), expected, "permutation " + perm);
    }
  }

  @Test
  void mergeChangesOnlyThis() {
    DiagonalSecondMomentAccumulator a = new DiagonalSecondMomentAccumulator(2);
    DiagonalSecondMomentAccumulator b = new DiagonalSecondMomentAccumulator(2);
    a.update(new double[] {1, 2}, 0, 1);
    b.update(new double[] {3, -4, 0, 1}, 0, 2);
    a.merge(b);
    assertThat(a.sumSquares()).containsExactly(10, 21);
    assertBitwiseEqual(b.sumSquares(), new double[] {9, 17}, "other");
    assertThat(a.tokenCount()).isEqualTo(3);
    assertThat(b.tokenCount()).isEqualTo(2);
  }

  @Test
  void mergeOfAnotherKindIsRejectedNamingBothKinds() {
    assertThatThrownBy(() -> new DiagonalSecondMomentAccumulator(5).merge(new CrossProductAccumulator(5, 1)))
        .isInstanceOf(StateException.class)
        .hasMessage("Cannot merge CROSS_PRODUCT [5, 1] into DIAGONAL_SECOND_MOMENT [5, 1]: kinds differ");
  }
}
