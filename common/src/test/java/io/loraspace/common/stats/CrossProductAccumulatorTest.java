package io.loraspace.common.stats;

import static io.loraspace.common.stats.StatsTestSupport.assertBitwiseEqual;
import static io.loraspace.common.stats.StatsTestSupport.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CrossProductAccumulatorTest {

  private static double[] naiveCross(double[] g, double[] x, int rows, int out, int in) {
    double[] c = new double[out * in];
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < in; j++) {
        for (int i = 0; i < out; i++) {
          c[i + j * out] += g[t * out + i] * x[t * in + j];
        }
      }
    }
    return c;
  }

  @ParameterizedTest
  @CsvSource({"1, 1", "2, 2", "17, 17", "256, 256", "1, 256", "256, 2", "17, 2", "2, 17"})
  void anyBlockSplitAndMergeTreeMatchesNaiveReference(int out, int in) {
    Random rnd = new Random(5000 + 31 * out + in);
    int rows = 300;
    double[] g = StatsTestSupport.rows(rnd, rows, out);
    double[] x = StatsTestSupport.rows(rnd, rows, in);
    double[] naive = naiveCross(g, x, rows, out, in);
    for (int trial = 0; trial < 4; trial++) {
      int parts = 1 + rnd.nextInt(6);
      List<CrossProductAccumulator> accs = new ArrayList<>();
      for (int p = 0; p < parts; p++) {
        accs.add(new CrossProductAccumulator(out, in));
      }
      int at = 0;
      long samples = 0;
      for (int size : StatsTestSupport.randomSplit(rnd, rows)) {
        CrossProductAccumulator acc = accs.get(rnd.nextInt(parts));
        if (rnd.nextBoolean()) {
          acc.updateSample(g, at * out, x, at * in, size);
        } else {
          acc.update(g, at * out, x, at * in, size);
          acc.addSamples(2);
          samples++;
        }
        samples++;
        at += size;
      }
      CrossProductAccumulator total = StatsTestSupport.mergeRandomTree(rnd, accs);
      assertClose(total.crossProduct().data(), naive, "Σ g xᵀ " + out + "×" + in + " trial " + trial);
      assertThat(total.tokenCount()).isEqualTo(rows);
      assertThat(total.sampleCount()).isEqualTo(samples);
    }
  }

  @Test
  void mergeOrderPermutationsAgree() {
    Random rnd = new Random(12);
    int out = 17;
    int in = 5;
    double[] g = StatsTestSupport.rows(rnd, 90, out);
    double[] x = StatsTestSupport.rows(rnd, 90, in);
    List<CrossProductAccumulator> parts = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      CrossProductAccumulator a = new CrossProductAccumulator(out, in);
      a.updateSample(g, p * 30 * out, x, p * 30 * in, 30);
      parts.add(a);
    }
    double[] naive = naiveCross(g, x, 90, out, in);
    for (int perm = 0; perm < 4; perm++) {
      List<CrossProductAccumulator> order = StatsTestSupport.shuffledCopies(rnd, parts);
      order.get(0).merge(order.get(1));
      order.get(0).merge(order.get(2));
      assertClose(order.get(0).crossProduct().data(), naive, "permutation " + perm);
      assertThat(order.get(0).sampleCount()).isEqualTo(3);
    }
  }

  @Test
  void smallExampleByHandIsOutByIn() {
    CrossProductAccumulator a = new CrossProductAccumulator(2, 3);
    // token 0: g = (1, 2), x = (1, 0, -1); token 1: g = (0, 1), x = (2, 3, 4)
    a.updateSample(new double[] {1, 2, 0, 1}, 0, new double[] {1, 0, -1, 2, 3, 4}, 0, 2);
    assertThat(a.crossProduct().get(0, 0)).isEqualTo(1);
    assertThat(a.crossProduct().get(0, 2)).isEqualTo(-1);
    assertThat(a.crossProduct().get(1, 0)).isEqualTo(4);
    assertThat(a.crossProduct().get(1, 1)).isEqualTo(3);
    assertThat(a.crossProduct().get(1, 2)).isEqualTo(2);
    assertThat(a.tokenCount()).isEqualTo(2);
    assertThat(a.sampleCount()).isEqualTo(1);
  }

  @Test
  void mergeChangesOnlyThis() {
    Random rnd = new Random(13);
    CrossProductAccumulator a = new CrossProductAccumulator(3, 2);
    CrossProductAccumulator b = new CrossProductAccumulator(3, 2);
    a.updateSample(StatsTestSupport.rows(rnd, 4, 3), 0, StatsTestSupport.rows(rnd, 4, 2), 0, 4);
    b.updateSample(StatsTestSupport.rows(rnd, 6, 3), 0, StatsTestSupport.rows(rnd, 6, 2), 0, 6);
    double[] before = b.crossProduct().data();
    a.merge(b);
    assertBitwiseEqual(b.crossProduct().data(), before, "other");
    assertThat(b.tokenCount()).isEqualTo(6);
    assertThat(a.tokenCount()).isEqualTo(10);
  }

  @Test
  void mergeOfTransposedShapeIsRejectedNamingBothShapes() {
    assertThatThrownBy(() -> new CrossProductAccumulator(4, 3).merge(new CrossProductAccumulator(3, 4)))
        .isInstanceOf(StateException.class)
        .hasMessage("Cannot merge CROSS_PRODUCT [3, 4] into CROSS_PRODUCT [4, 3]: shapes differ");
  }

  @Test
  void blocksOutsideTheirArraysAreRejected() {
    assertThatThrownBy(() -> new CrossProductAccumulator(2, 3).update(new double[4], 0, new double[5], 0, 2))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Input block of 2×3 = 6 values at offset 0 does not fit in an array of length 5");
    assertThatThrownBy(() -> new CrossProductAccumulator(2, 3).update(new double[3], 0, new double[6], 0, 2))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Gradient block of 2×2 = 4 values at offset 0 does not fit in an array of length 3");
  }

  @Test
  void negativeSampleCountIsRejected() {
    assertThatThrownBy(() -> new CrossProductAccumulator(2, 3).addSamples(-1))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Sample count to add must be >= 0, got -1");
  }
}
