package io.loraspace.common.stats;

import static io.loraspace.common.stats.StatsTestSupport.assertBitwiseEqual;
import static io.loraspace.common.stats.StatsTestSupport.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.DenseMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenGramAccumulatorTest {

  /** Feeds x in random blocks to `parts` partial accumulators (each block to a random one). */
  private static List<TokenGramAccumulator> randomPartials(Random rnd, double[] x, int rows, int d, int parts) {
    List<TokenGramAccumulator> accs = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      accs.add(new TokenGramAccumulator(d));
    }
    int at = 0;
    for (int size : StatsTestSupport.randomSplit(rnd, rows)) {
      accs.get(rnd.nextInt(parts)).update(x, at * d, size);
      at += size;
    }
    assertThat(at).isEqualTo(rows);
    return accs;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void anyBlockSplitAndMergeTreeMatchesNaiveReference(int d) {
    Random rnd = new Random(1000 + d);
    int rows = d == 256 ? 700 : 150;
    double[] x = StatsTestSupport.rows(rnd, rows, d);
    double[] naive = StatsTestSupport.naiveGram(x, rows, d);
    double[] naiveSum = StatsTestSupport.naiveSum(x, rows, d);
    for (int trial = 0; trial < 4; trial++) {
      List<TokenGramAccumulator> parts = randomPartials(rnd, x, rows, d, 1 + rnd.nextInt(6));
      TokenGramAccumulator total = StatsTestSupport.mergeRandomTree(rnd, parts);
      assertClose(total.gram().data(), naive, "gram d=" + d + " trial " + trial);
      assertClose(total.tokenSum(), naiveSum, "token sum d=" + d);
      assertThat(total.tokenCount()).isEqualTo(rows);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void mergeOrderPermutationsAgreeWithEachOtherAndTheReference(int d) {
    Random rnd = new Random(2000 + d);
    int rows = d == 256 ? 400 : 120;
    double[] x = StatsTestSupport.rows(rnd, rows, d);
    double[] naive = StatsTestSupport.naiveGram(x, rows, d);
    List<TokenGramAccumulator> parts = randomPartials(rnd, x, rows, d, 5);
    for (int perm = 0; perm < 4; perm++) {
      List<TokenGramAccumulator> order = StatsTestSupport.shuffledCopies(rnd, parts);
      TokenGramAccumulator left = order.get(0);
      for (int i = 1; i < order.size(); i++) {
        left.merge(order.get(i));
      }
      assertClose(left.gram().data(), naive, "permutation " + perm);
      assertThat(left.tokenCount()).isEqualTo(rows);
    }
  }

  @Test
  void mergeIsAssociativeWithinTolerance() {
    Random rnd = new Random(5);
    int d = 17;
    TokenGramAccumulator a = new TokenGramAccumulator(d);
    TokenGramAccumulator b = new TokenGramAccumulator(d);
    TokenGramAccumulator c = new TokenGramAccumulator(d);
    a.update(StatsTestSupport.rows(rnd, 30, d), 30);
    b.update(StatsTestSupport.rows(rnd, 1, d), 1);
    c.update(StatsTestSupport.rows(rnd, 55, d), 55);
    TokenGramAccumulator leftFirst = a.copy();
    leftFirst.merge(b);
    leftFirst.merge(c);
    TokenGramAccumulator bc = b.copy();
    bc.merge(c);
    TokenGramAccumulator rightFirst = a.copy();
    rightFirst.merge(bc);
    assertClose(leftFirst.gram().data(), rightFirst.gram().data(), "(a+b)+c vs a+(b+c)");
    assertClose(leftFirst.tokenSum(), rightFirst.tokenSum(), "sums");
    assertThat(leftFirst.tokenCount()).isEqualTo(rightFirst.tokenCount()).isEqualTo(86);
  }

  @Test
  void mergeChangesOnlyThis() {
    Random rnd = new Random(6);
    TokenGramAccumulator a = new TokenGramAccumulator(4);
    TokenGramAccumulator b = new TokenGramAccumulator(4);
    a.update(StatsTestSupport.rows(rnd, 7, 4), 7);
    b.update(StatsTestSupport.rows(rnd, 9, 4), 9);
    double[] bGram = b.gram().data();
    double[] bSum = b.tokenSum();
    a.merge(b);
    assertBitwiseEqual(b.gram().data(), bGram, "other's gram");
    assertBitwiseEqual(b.tokenSum(), bSum, "other's sum");
    assertThat(b.tokenCount()).isEqualTo(9);
    assertThat(a.tokenCount()).isEqualTo(16);
  }

  @Test
  void mergeWithItselfDoublesEveryStatistic() {
    Random rnd = new Random(7);
    TokenGramAccumulator a = new TokenGramAccumulator(3);
    a.update(StatsTestSupport.rows(rnd, 5, 3), 5);
    double[] g = a.gram().data();
    a.merge(a);
    double[] doubled = a.gram().data();
    for (int i = 0; i < g.length; i++) {
      assertThat(doubled[i]).isEqualTo(2 * g[i]);
    }
    assertThat(a.tokenCount()).isEqualTo(10);
  }

  @Test
  void gramIsAFullSymmetricCopy() {
    TokenGramAccumulator a = new TokenGramAccumulator(2);
    a.update(new double[] {1, 2, 3, 4}, 2); // tokens (1, 2) and (3, 4)
    DenseMatrix g = a.gram();
    assertThat(g.data()).containsExactly(10, 14, 14, 20);
    g.set(0, 1, 99);
    assertThat(a.gram().get(0, 1)).isEqualTo(14);
    double[] s = a.tokenSum();
    s[0] = 99;
    assertThat(a.tokenSum()).containsExactly(4, 6);
  }

  @Test
  void blockOffsetSelectsTheRows() {
    TokenGramAccumulator a = new TokenGramAccumulator(2);
    a.update(new double[] {9, 9, 9, 1, 2, 9}, 3, 1);
    assertThat(a.gram().data()).containsExactly(1, 2, 2, 4);
    assertThat(a.tokenSum()).containsExactly(1, 2);
  }

  @Test
  void mergeOfAnotherShapeIsRejectedNamingBothShapes() {
    assertThatThrownBy(() -> new TokenGramAccumulator(17).merge(new TokenGramAccumulator(16)))
        .isInstanceOf(StateException.class)
        .hasMessage("Cannot merge TOKEN_GRAM [16, 16] into TOKEN_GRAM [17, 17]: shapes differ");
  }

  @Test
  void mergeOfAnotherKindIsRejectedNamingBothKinds() {
    assertThatThrownBy(() -> new TokenGramAccumulator(4).merge(new SampleGramAccumulator(4, 8)))
        .isInstanceOf(StateException.class)
        .hasMessage("Cannot merge SAMPLE_GRAM [4, 4] into TOKEN_GRAM [4, 4]: kinds differ");
  }

  @Test
  void blockOutsideTheArrayIsRejected() {
    assertThatThrownBy(() -> new TokenGramAccumulator(3).update(new double[10], 2, 3))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Token block of 3×3 = 9 values at offset 2 does not fit in an array of length 10");
    assertThatThrownBy(() -> new TokenGramAccumulator(3).update(new double[10], 0, -1))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Token block row count must be >= 0, got -1");
  }

  @Test
  void nonPositiveDimensionIsRejected() {
    assertThatThrownBy(() -> new TokenGramAccumulator(0))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Token Gram dimension must be >= 1, got 0");
  }
}
