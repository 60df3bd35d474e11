package io.loraspace.common.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random data, random block splits, random merge trees and the tolerance check shared by the accumulator tests. */
final class StatsTestSupport {
  /** Normwise relative tolerance against the naive references: max|actual − naive| ≤ 1e-12 · max|naive|. */
  static final double REL_TOL = 1e-12;

  private StatsTestSupport() {}

  /** n Gaussian values with a per-dimension offset (so sums are not near zero), row-major rows×d with n = rows·d. */
  static double[] rows(Random rnd, int rows, int d) {
    double[] x = new double[rows * d];
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < d; j++) {
        x[t * d + j] = rnd.nextGaussian() + 0.5 * ((j % 5) - 2);
      }
    }
    return x;
  }

  /**
   * Block sizes summing to {@code total}, in random order, always including at least one 0-row block and (when
   * total ≥ 1) one 1-row block.
   */
  static List<Integer> randomSplit(Random rnd, int total) {
    List<Integer> sizes = new ArrayList<>();
    int left = total;
    sizes.add(0);
    if (left >= 1) {
      sizes.add(1);
      left--;
    }
    while (left > 0) {
      int kind = rnd.nextInt(4);
      int s = kind == 0 ? 0 : kind == 1 ? 1 : 1 + rnd.nextInt(Math.max(1, total / 3));
      s = Math.min(s, left);
      sizes.add(s);
      left -= s;
    }
    java.util.Collections.shuffle(sizes, rnd);
    return sizes;
  }

  /** Merges the list by a random binary tree with random orientation; returns the root. The list is emptied. */
  static <A extends Accumulator> A mergeRandomTree(Random rnd, List<A> parts) {
    while (parts.size() > 1) {
      int i = rnd.nextInt(parts.size());
      int j = rnd.nextInt(parts.size() - 1);
      if (j >= i) {
        j++;
      }
      parts.get(i).merge(parts.get(j));
      parts.remove(j);
    }
    return parts.get(0);
  }

  /** Deep copies of every accumulator, in a random order. */
  @SuppressWarnings("unchecked")
  static <A extends Accumulator> List<A> shuffledCopies(Random rnd, List<A> parts) {
    List<A> copies = new ArrayList<>();
    for (A a : parts) {
      copies.add((A) a.copy());
    }
    java.util.Collections.shuffle(copies, rnd);
    return copies;
  }

  static void assertClose(double[] actual, double[] expected, String what) {
    assertThat(actual).as(what + " length").hasSize(expected.length);
    double scale = 0.0;
    double err = 0.0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      err = Math.max(err, Math.abs(actual[i] - expected[i]));
    }
    assertThat(err).as("%s: max abs error vs naive (scale %s)", what, scale).isLessThanOrEqualTo(REL_TOL * scale);
  }

  static void assertBitwiseEqual(double[] actual, double[] expected, String what) {
    assertThat(actual).as(what + " length").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(actual[i]) != Double.doubleToRawLongBits(expected[i])) {
        assertThat(actual[i]).as("%s[%d]", what, i).isEqualTo(expected[i]);
      }
    }
  }

  /** Naive Σ_t x_t x_tᵀ as a full column-major d×d array. */
  static double[] naiveGram(double[] x, int rows, int d) {
    double[] g = new double[d * d];
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < d; j++) {
        for (int i = 0; i < d; i++) {
          g[i + j * d] += x[t * d + i] * x[t * d + j];
        }
      }
    }
    return g;
  }

  /** Naive column sums of a row-major rows×d block. */
  static double[] naiveSum(double[] x, int rows, int d) {
    double[] s = new double[d];
    for (int t = 0; t < rows; t++) {
      for (int j = 0; j < d; j++) {
        s[j] += x[t * d + j];
      }
    }
    return s;
  }
}
