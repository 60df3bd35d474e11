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
import org.junit.jupiter.params.provider.ValueSource;

class SampleGramAccumulatorTest {

  /** A data set of samples, each a row-major T_s×d block (T_s may be 0 or 1), with naive references. */
  private static final class Samples {
    final int d;
    final List<double[]> blocks = new ArrayList<>();
    final List<Integer> tokens = new ArrayList<>();

    Samples(Random rnd, int d, int n) {
      this.d = d;
      for (int s = 0; s < n; s++) {
        int t = s == 0 ? 0 : s == 1 ? 1 : rnd.nextInt(12);
        tokens.add(t);
        blocks.add(StatsTestSupport.rows(rnd, t, d));
      }
    }

    double[] sum(int s) {
      return StatsTestSupport.naiveSum(blocks.get(s), tokens.get(s), d);
    }

    double[] naiveGram() {
      double[] g = new double[d * d];
      for (int s = 0; s < blocks.size(); s++) {
        double[] xh = sum(s);
        for (int j = 0; j < d; j++) {
          for (int i = 0; i < d; i++) {
            g[i + j * d] += xh[i] * xh[j];
          }
        }
      }
      return g;
    }

    double[] naiveWeightedSum() {
      double[] u = new double[d];
      for (int s = 0; s < blocks.size(); s++) {
        double[] xh = sum(s);
        for (int j = 0; j < d; j++) {
          u[j] += tokens.get(s) * xh[j];
        }
      }
      return u;
    }

    double[] naiveSampleSum() {
      double[] u = new double[d];
      for (int s = 0; s < blocks.size(); s++) {
        double[] xh = sum(s);
        for (int j = 0; j < d; j++) {
          u[j] += xh[j];
        }
      }
      return u;
    }

    long tokenTotal() {
      long t = 0;
      for (int v : tokens) {
        t += v;
      }
      return t;
    }

    double tokensSquared() {
      double t = 0;
      for (int v : tokens) {
        t += (double) v * v;
      }
      return t;
    }

    /** Adds sample s, alternating between the per-sample-sum and the token-block entry points. */
    void feed(SampleGramAccumulator acc, int s, boolean asSum) {
      if (asSum) {
        double[] padded = new double[d + 3];
        System.arraycopy(sum(s), 0, padded, 3, d);
        acc.addSample(padded, 3, tokens.get(s));
      } else {
        acc.addSampleTokens(blocks.get(s), 0, tokens.get(s));
      }
    }
  }

  private static void assertMatchesNaive(SampleGramAccumulator acc, Samples data, String what) {
    assertClose(acc.gram().data(), data.naiveGram(), what + ": sample Gram");
    assertClose(acc.tokenWeightedSampleSum(), data.naiveWeightedSum(), what + ": Σ T_s x̂");
    assertClose(acc.sampleSum(), data.naiveSampleSum(), what + ": Σ x̂");
    assertThat(acc.sumTokensSquared()).as(what + ": Σ T_s²").isEqualTo(data.tokensSquared());
    assertThat(acc.sampleCount()).as(what + ": samples").isEqualTo(data.blocks.size());
    assertThat(acc.tokenCount()).as(what + ": tokens").isEqualTo(data.tokenTotal());
  }

  private static List<SampleGramAccumulator> randomPartials(Random rnd, Samples data, int parts) {
    int[] batches = {1, 3, 64};
    List<SampleGramAccumulator> accs = new ArrayList<>();
    for (int p = 0; p < parts; p++) {
      accs.add(new SampleGramAccumulator(data.d, batches[rnd.nextInt(batches.length)]));
    }
    for (int s = 0; s < data.blocks.size(); s++) {
      data.feed(accs.get(rnd.nextInt(parts)), s, rnd.nextBoolean());
    }
    return accs;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void anySampleSplitBatchSizeAndMergeTreeMatchesNaiveReference(int d) {
    Random rnd = new Random(3000 + d);
    Samples data = new Samples(rnd, d, d == 256 ? 90 : 60);
    for (int trial = 0; trial < 4; trial++) {
      List<SampleGramAccumulator> parts = randomPartials(rnd, data, 1 + rnd.nextInt(6));
      SampleGramAccumulator total = StatsTestSupport.mergeRandomTree(rnd, parts);
      assertMatchesNaive(total, data, "d=" + d + " trial " + trial);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void mergeOrderPermutationsMatchNaiveReference(int d) {
    Random rnd = new Random(4000 + d);
    Samples data = new Samples(rnd, d, 50);
    List<SampleGramAccumulator> parts = randomPartials(rnd, data, 5);
    for (int perm = 0; perm < 3; perm++) {
      List<SampleGramAccumulator> order = StatsTestSupport.shuffledCopies(rnd, parts);
      SampleGramAccumulator left = order.get(0);
      for (int i = 1; i < order.size(); i++) {
        left.merge(order.get(i));
      }
      assertMatchesNaive(left, data, "permutation " + perm);
    }
  }

  @Test
  void biasTermsGiveTheDirectlyComputedOutputCovarianceOfALinearLayer() {
    // METHODS.md: with ĥ_s = Σ_tokens (W x + b) = W x̂_s + T_s b,
    // Σ ĥ ĥᵀ = W S Wᵀ + W u bᵀ + b uᵀ Wᵀ + (Σ T_s²) b bᵀ, u = Σ T_s x̂_s.
    Random rnd = new Random(21);
    int in = 17;
    int out = 5;
    Samples data = new Samples(rnd, in, 40);
    double[] w = StatsTestSupport.rows(rnd, out, in); // row-major out×in
    double[] b = StatsTestSupport.rows(rnd, 1, out);
    double[] direct = new double[out * out];
    for (int s = 0; s < data.blocks.size(); s++) {
      double[] h = new double[out];
      double[] block = data.blocks.get(s);
      for (int t = 0; t < data.tokens.get(s); t++) {
        for (int o = 0; o < out; o++) {
          double y = b[o];
          for (int j = 0; j < in; j++) {
            y += w[o * in + j] * block[t * in + j];
          }
          h[o] += y;
        }
      }
      for (int q = 0; q < out; q++) {
        for (int p = 0; p < out; p++) {
          direct[p + q * out] += h[p] * h[q];
        }
      }
    }
    SampleGramAccumulator acc = new SampleGramAccumulator(in, 6);
    for (int s = 0; s < data.blocks.size(); s++) {
      data.feed(acc, s, s % 2 == 0);
    }
    double[] sg = acc.gram().data();
    double[] u = acc.tokenWeightedSampleSum();
    double t2 = acc.sumTokensSquared();
    double[] fromStats = new double[out * out];
    for (int q = 0; q < out; q++) {
      for (int p = 0; p < out; p++) {
        double v = 0;
        for (int i = 0; i < in; i++) {
          for (int j = 0; j < in; j++) {
            v += w[p * in + i] * sg[i + j * in] * w[q * in + j];
          }
        }
        double wu = 0;
        double wuq = 0;
        for (int i = 0; i < in; i++) {
          wu += w[p * in + i] * u[i];
          wuq += w[q * in + i] * u[i];
        }
        fromStats[p + q * out] = v + wu * b[q] + b[p] * wuq + t2 * b[p] * b[q];
      }
    }
    assertClose(fromStats, direct, "output covariance from sample statistics");
  }

  @Test
  void readsWithAPendingBatchDoNotChangeLaterResults() {
    Random rnd = new Random(8);
    Samples data = new Samples(rnd, 9, 40);
    SampleGramAccumulator quiet = new SampleGramAccumulator(9, 7);
    SampleGramAccumulator observed = new SampleGramAccumulator(9, 7);
    for (int s = 0; s < 40; s++) {
      data.feed(quiet, s, s % 3 == 0);
      data.feed(observed, s, s % 3 == 0);
      if (s % 5 == 2) {
        observed.gram();
        observed.toBytes();
        observed.tokenWeightedSampleSum();
      }
    }
    assertBitwiseEqual(observed.gram().data(), quiet.gram().data(), "gram after reads");
    assertThat(observed.toBytes()).isEqualTo(quiet.toBytes());
    assertMatchesNaive(observed, data, "observed");
  }

  @Test
  void mergeTakesPendingSamplesWithoutChangingOther() {
    Random rnd = new Random(9);
    Samples data = new Samples(rnd, 5, 13);
    SampleGramAccumulator a = new SampleGramAccumulator(5, 4);
    SampleGramAccumulator b = new SampleGramAccumulator(5, 4);
    SampleGramAccumulator bTwin = new SampleGramAccumulator(5, 4);
    for (int s = 0; s < 13; s++) {
      if (s < 6) {
        data.feed(a, s, true);
      } else {
        data.feed(b, s, false);
        data.feed(bTwin, s, false);
      }
    }
    byte[] bBefore = b.toBytes();
    a.merge(b);
    assertThat(b.toBytes()).isEqualTo(bBefore);
    assertMatchesNaive(a, data, "merged");
    // other keeps working exactly as an untouched twin
    b.addSampleTokens(data.blocks.get(3), 0, data.tokens.get(3));
    bTwin.addSampleTokens(data.blocks.get(3), 0, data.tokens.get(3));
    assertBitwiseEqual(b.gram().data(), bTwin.gram().data(), "other after merge");
  }

  @Test
  void mergeWithItselfDoublesEveryStatistic() {
    Random rnd = new Random(10);
    Samples data = new Samples(rnd, 3, 5);
    SampleGramAccumulator a = new SampleGramAccumulator(3, 2);
    for (int s = 0; s < 5; s++) {
      data.feed(a, s, false);
    }
    double[] g = a.gram().data();
    double t2 = a.sumTokensSquared();
    a.merge(a);
    assertClose(a.gram().data(), scaled(g, 2), "doubled gram");
    assertThat(a.sumTokensSquared()).isEqualTo(2 * t2);
    assertThat(a.sampleCount()).isEqualTo(10);
  }

  private static double[] scaled(double[] v, double f) {
    double[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= f;
    }
    return out;
  }

  @Test
  void smallExampleByHand() {
    SampleGramAccumulator a = new SampleGramAccumulator(2, 8);
    a.addSampleTokens(new double[] {1, 2, 3, 4}, 0, 2); // x̂ = (4, 6), T = 2
    a.addSample(new double[] {1, -1}, 0, 3); // x̂ = (1, -1), T = 3
    assertThat(a.gram().data()).containsExactly(17, 23, 23, 37);
    assertThat(a.tokenWeightedSampleSum()).containsExactly(11, 9);
    assertThat(a.sampleSum()).containsExactly(5, 5);
    assertThat(a.sumTokensSquared()).isEqualTo(13);
    assertThat(a.sampleCount()).isEqualTo(2);
    assertThat(a.tokenCount()).isEqualTo(5);
  }

  @Test
  void mergeOfAnotherShapeIsRejectedNamingBothShapes() {
    assertThatThrownBy(() -> new SampleGramAccumulator(3, 4).merge(new SampleGramAccumulator(2, 4)))
        .isInstanceOf(StateException.class)
        .hasMessage("Cannot merge SAMPLE_GRAM [2, 2] into SAMPLE_GRAM [3, 3]: shapes differ");
  }

  @Test
  void negativeTokenCountIsRejected() {
    assertThatThrownBy(() -> new SampleGramAccumulator(2, 4).addSample(new double[2], 0, -3))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Sample token count must be >= 0, got -3");
  }

  @Test
  void nonPositiveBatchSizeIsRejected() {
    assertThatThrownBy(() -> new SampleGramAccumulator(2, 0))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Sample Gram batch size must be >= 1, got 0");
  }

  @Test
  void sampleSumOutsideTheArrayIsRejected() {
    assertThatThrownBy(() -> new SampleGramAccumulator(4, 4).addSample(new double[5], 2, 1))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Sample sum of 1×4 = 4 values at offset 2 does not fit in an array of length 5");
  }
}
