package io.loraspace.common.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.synth.SyntheticMergeProblem;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The merge math against direct loops: component projections, Frobenius Gram, margins and accuracies of many merged
 * heads in one pass, exact order-free merging, the closed forms of Theorems 3.2/3.3, the merged PEFT adapter.
 */
class MergeMathTest {
  private static final String MODULE = "classifier";

  private static DenseMatrix random(SplittableRandom rnd, int rows, int cols) {
    DenseMatrix m = DenseMatrix.zeros(rows, cols);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextDouble() * 2 - 1;
    }
    return m;
  }

  private static HeadDecomposition randomHead(SplittableRandom rnd, int k, int d, int[] ranks) {
    DenseMatrix[] as = new DenseMatrix[ranks.length];
    DenseMatrix[] bs = new DenseMatrix[ranks.length];
    double[] s = new double[ranks.length];
    for (int i = 0; i < ranks.length; i++) {
      as[i] = random(rnd, ranks[i], d);
      bs[i] = random(rnd, k, ranks[i]);
      s[i] = 0.5 + i;
    }
    return new HeadDecomposition(random(rnd, k, d), s, as, bs);
  }

  /** Direct loop: z = (Σ_c coeff_c component_c) x from dense components. */
  private static double[] logits(HeadDecomposition h, double[] coeff, double[] x, int xOff) {
    double[] w = h.merged(coeff);
    double[] z = new double[h.classes()];
    for (int k = 0; k < z.length; k++) {
      for (int j = 0; j < h.dim(); j++) {
        z[k] += w[k * h.dim() + j] * x[xOff + j];
      }
    }
    return z;
  }

  @Test
  void projectionEqualsDenseComponentsTimesFeatures() {
    SplittableRandom rnd = new SplittableRandom(3);
    HeadDecomposition h = randomHead(rnd, 5, 9, new int[] {2, 4});
    double[] x = random(rnd, 1, 9).data();
    double[] out = new double[3 * 5 + 2];
    h.project(x, 0, new double[h.scratchLength()], out, 2);
    for (int c = 0; c < 3; c++) {
      double[] coeff = new double[3];
      coeff[c] = 1;
      double[] z = logits(h, coeff, x, 0);
      for (int k = 0; k < 5; k++) {
        assertThat(out[2 + c * 5 + k]).isCloseTo(z[k], within(1e-12));
      }
    }
  }

  @Test
  void frobeniusGramGivesTheNormOfEveryMergedHead() {
    SplittableRandom rnd = new SplittableRandom(4);
    HeadDecomposition h = randomHead(rnd, 4, 7, new int[] {3, 1, 2});
    double[] g = h.frobeniusGram();
    double[] coeff = {1, 0.3, -2, 0.7};
    double direct = 0;
    for (double v : h.merged(coeff)) {
      direct += v * v;
    }
    assertThat(HeadDecomposition.norm(g, coeff)).isCloseTo(Math.sqrt(direct), within(1e-12));
  }

  @Test
  void headWithOneClassOrMismatchedFactorsIsRejected() {
    SplittableRandom rnd = new SplittableRandom(5);
    assertThatThrownBy(() -> new HeadDecomposition(random(rnd, 1, 4), new double[0], new DenseMatrix[0],
        new DenseMatrix[0])).isInstanceOf(ArgumentException.class).hasMessageContaining("at least 2 classes");
    assertThatThrownBy(() -> new HeadDecomposition(random(rnd, 3, 4), new double[] {1},
        new DenseMatrix[] {random(rnd, 2, 5)}, new DenseMatrix[] {random(rnd, 3, 2)}))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Adapter 1 has A [2, 5] and B [3, 2], expected A [r, 4] and B [3, r] for a head of shape [3, 4]");
  }

  @Test
  void marginGridEqualsDirectLoopsOnEveryPointAndDataset() {
    SplittableRandom rnd = new SplittableRandom(6);
    int k = 4;
    int d = 6;
    HeadDecomposition h = randomHead(rnd, k, d, new int[] {2, 3});
    double[] points = {1, 0, 0, 0, 1, 0, 1, 0.5, 2, 1, -1, 0.25};
    MarginGrid grid = new MarginGrid(k, 3, 2, points);
    int n = 50;
    double[] x = random(rnd, n, d).toRowMajor();
    int[] labels = new int[n];
    int[] dataset = new int[n];
    double[] comps = new double[3 * k];
    double[] scratch = new double[h.scratchLength()];
    for (int s = 0; s < n; s++) {
      labels[s] = rnd.nextInt(k);
      dataset[s] = s % 2;
      h.project(x, s * d, scratch, comps, 0);
      grid.update(dataset[s], labels[s], comps, 0, s);
    }
    for (int p = 0; p < 4; p++) {
      double[] coeff = grid.coefficients(p);
      for (int ds = 0; ds < 2; ds++) {
        double min = Double.POSITIVE_INFINITY;
        long at = -1;
        long correct = 0;
        for (int s = 0; s < n; s++) {
          if (dataset[s] != ds) {
            continue;
          }
          double[] z = logits(h, coeff, x, s * d);
          double other = Double.NEGATIVE_INFINITY;
          for (int c = 0; c < k; c++) {
            if (c != labels[s]) {
              other = Math.max(other, z[c]);
            }
          }
          double m = z[labels[s]] - other;
          correct += m > 0 ? 1 : 0;
          if (m < min) {
            min = m;
            at = s;
          }
        }
        assertThat(grid.margin(p, ds)).as("point %d dataset %d", p, ds).isCloseTo(min, within(1e-12));
        assertThat(grid.argmin(p, ds)).isEqualTo(at);
        assertThat(grid.correct(p, ds)).isEqualTo(correct);
      }
    }
    assertThat(grid.count(0)).isEqualTo(25);
    assertThat(grid.margin(0, 0)).isNotEqualTo(grid.margin(2, 0));
  }

  @Test
  void mergeIsExactInAnyOrderAndRejectsOtherShapes() {
    SplittableRandom rnd = new SplittableRandom(7);
    double[] points = {1, 0.5, 1, 2, 0, 1};
    List<MarginGrid> parts = new ArrayList<>();
    MarginGrid whole = new MarginGrid(3, 2, 2, points);
    for (int part = 0; part < 5; part++) {
      MarginGrid g = new MarginGrid(3, 2, 2, points);
      for (int s = 0; s < 20; s++) {
        double[] comps = random(rnd, 1, 6).data();
        int label = rnd.nextInt(3);
        // duplicated values across parts exercise the tie-break by key
        g.update(s % 2, label, comps, 0, part * 100L + s);
        whole.update(s % 2, label, comps, 0, part * 100L + s);
      }
      parts.add(g);
    }
    MarginGrid forward = new MarginGrid(3, 2, 2, points);
    parts.forEach(forward::merge);
    MarginGrid backward = new MarginGrid(3, 2, 2, points);
    for (int i = parts.size() - 1; i >= 0; i--) {
      backward.merge(parts.get(i));
    }
    for (int p = 0; p < 3; p++) {
      for (int d = 0; d < 2; d++) {
        assertThat(forward.margin(p, d)).isEqualTo(whole.margin(p, d)).isEqualTo(backward.margin(p, d));
        assertThat(forward.argmin(p, d)).isEqualTo(whole.argmin(p, d)).isEqualTo(backward.argmin(p, d));
        assertThat(forward.correct(p, d)).isEqualTo(whole.correct(p, d)).isEqualTo(backward.correct(p, d));
      }
    }
    assertThatThrownBy(() -> forward.merge(new MarginGrid(3, 2, 2, new double[] {1, 1})))
        .isInstanceOf(StateException.class).hasMessageContaining("Cannot merge MarginGrid of 1 points");
  }

  @Test
  void labelOutsideTheClassesIsRejected() {
    MarginGrid g = new MarginGrid(3, 1, 1, new double[] {1});
    assertThatThrownBy(() -> g.update(0, 3, new double[3], 0, 0)).isInstanceOf(ArgumentException.class)
        .hasMessage("Label 3 is outside the head's classes [0, 3)");
  }

  @Test
  void steadyStateUpdatesAllocateNothing() {
    SplittableRandom rnd = new SplittableRandom(8);
    HeadDecomposition h = randomHead(rnd, 5, 8, new int[] {2, 2});
    MarginGrid grid = new MarginGrid(5, 3, 2, GridDesign.LATTICE.points(3, 0, 1, 4, 0));
    FeatureGeometry geo = new FeatureGeometry(5, 3, 2);
    double[] x = random(rnd, 1, 8).data();
    double[] comps = new double[15];
    double[] scratch = new double[h.scratchLength()];
    long before = 0;
    for (int round = 0; round < 2; round++) {
      if (round == 1) {
        before = ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
      }
      for (int i = 0; i < 20_000; i++) {
        h.project(x, 0, scratch, comps, 0);
        grid.update(i % 2, i % 5, comps, 0, i);
        geo.update(i % 2, x, 0, 8, comps, 0);
      }
    }
    long allocated = ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated by 20 000 updates").isLessThan(20_000);
  }

  @Test
  void theorem33CoefficientsEqualizeEveryTaskAtTheOptimalUnionMargin() {
    MergeTheory t = new MergeTheory(3, 0.2, new double[] {0.5, 0.25}, new double[] {2, 4});
    double[] a = t.optimalAlpha();
    assertThat(a[0]).isCloseTo(3 * 0.2 / (0.5 * 2), within(1e-15));
    assertThat(a[1]).isCloseTo(3 * 0.2 / (0.25 * 4), within(1e-15));
    double opt = 1 / Math.sqrt(1 / 0.04 + 1 / 0.25 + 1 / 0.0625);
    assertThat(t.optimalUnionMargin()).isCloseTo(opt, within(1e-15));
    assertThat(t.predictedPre(a)).isCloseTo(opt, within(1e-15));
    assertThat(t.predictedTask(0, a)).isCloseTo(opt, within(1e-15));
    assertThat(t.predictedTask(1, a)).isCloseTo(opt, within(1e-15));
    // moving any coefficient lowers the union margin
    assertThat(t.predictedUnion(new double[] {a[0] * 1.01, a[1]})).isLessThan(opt);
    assertThat(t.predictedUnion(new double[] {a[0], a[1] * 0.99})).isLessThan(opt);
  }

  @Test
  void theorem32BalancesOneAdapterAtItsBestNorm() {
    MergeTheory t = new MergeTheory(3, 0.2, new double[] {0.5}, new double[] {2});
    double best = t.singleTaskBestTheta(0);
    assertThat(best).isCloseTo(3 * 0.2 / 0.5, within(1e-15));
    assertThat(t.singleTaskPre(best)).isCloseTo(t.singleTaskTask(0, best), within(1e-15));
    assertThat(t.singleTaskPre(best)).isCloseTo(t.singleTaskBestUnion(0), within(1e-15));
    assertThat(t.singleTaskBestUnion(0)).isCloseTo(1 / Math.sqrt(1 / 0.25 + 1 / 0.04), within(1e-15));
  }

  @Test
  void nonPositiveMarginMakesTheCoefficientsUndefinedNamingTheQuantity() {
    MergeTheory pre = new MergeTheory(3, -0.01, new double[] {0.5}, new double[] {2});
    assertThat(pre.optimalAlpha()).isNull();
    assertThat(pre.undefinedReason()).isEqualTo("γ_pre = γ(W_pre; D_pre) = -0.0100000 ≤ 0: the pre-trained head "
        + "misclassifies (or ties) a pre-training sample");
    assertThat(pre.predictedUnion(new double[] {1})).isNaN();
    MergeTheory task = new MergeTheory(3, 0.2, new double[] {0.5, 0}, new double[] {2, 1});
    assertThat(task.undefinedReason()).startsWith("γ_2 = γ(ΔW_2; D_2) = 0.00000 ≤ 0: adapter 2 alone");
    CoefficientRule.Choice c = CoefficientRules.get("optimal").choose(new CoefficientRule.Evidence(task, null, null));
    assertThat(c.defined()).isFalse();
    assertThat(c.reason()).startsWith("α* is undefined: γ_2 = ");
  }

  @Test
  void rulesAreRegisteredOnceAndUnknownNamesFailListingThem() {
    assertThat(CoefficientRules.names()).containsExactly("optimal", "sum", "explicit", "grid-best");
    assertThatThrownBy(() -> CoefficientRules.get("ties")).isInstanceOf(ArgumentException.class)
        .hasMessage("Unknown coefficient rule 'ties' (known: [optimal, sum, explicit, grid-best])");
    MergeTheory t = new MergeTheory(1, 1, new double[] {1, 1}, new double[] {1, 1});
    assertThat(CoefficientRules.get("sum").choose(new CoefficientRule.Evidence(t, null, null)).alpha())
        .containsExactly(1, 1);
    assertThat(CoefficientRules.get("grid-best").needsGrid()).isTrue();
  }

  @Test
  void latticeExcludesTheLowerEndAndIncludesTheUpper() {
    double[] p = GridDesign.LATTICE.points(2, 0, 1, 4, 0);
    assertThat(p).hasSize(32);
    assertThat(p[0]).isEqualTo(0.25);
    assertThat(p[1]).isEqualTo(0.25);
    assertThat(p[2]).isEqualTo(0.25);
    assertThat(p[3]).isEqualTo(0.5);
    assertThat(p[30]).isEqualTo(1.0);
    assertThat(GridDesign.LATTICE.count(3, 50)).isEqualTo(125_000);
    double[] r = GridDesign.RANDOM.points(3, 0.5, 2, 100, 9);
    assertThat(r).hasSize(300);
    assertThat(java.util.Arrays.stream(r).min().getAsDouble()).isGreaterThan(0.5);
    assertThat(java.util.Arrays.stream(r).max().getAsDouble()).isLessThanOrEqualTo(2);
    assertThat(GridDesign.RANDOM.points(3, 0.5, 2, 100, 9)).isEqualTo(r);
  }

  @Test
  void mergedAdapterAppliesTheWeightedSumOfTheUpdates() {
    SyntheticMergeProblem.Spec spec = new SyntheticMergeProblem.Spec();
    spec.tasks = 3;
    SyntheticMergeProblem problem = new SyntheticMergeProblem(spec);
    List<LoraAdapter> adapters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      adapters.add(problem.adapter(i, MODULE));
    }
    double[] alpha = {0.5, 2, -1};
    LoraAdapter merged = MergedAdapter.build(adapters, MODULE, alpha);
    assertThat(merged.config().r()).isEqualTo(adapters.stream().mapToInt(a -> a.factors(MODULE).rank()).sum());
    assertThat(merged.config().scaling(MODULE)).isEqualTo(1.0);
    DenseMatrix expected = DenseMatrix.zeros(spec.classes, spec.dim());
    for (int i = 0; i < 3; i++) {
      DenseMatrix d = adapters.get(i).delta(MODULE);
      for (int j = 0; j < d.data().length; j++) {
        expected.data()[j] += alpha[i] * d.data()[j];
      }
    }
    DenseMatrix got = merged.delta(MODULE);
    for (int j = 0; j < got.data().length; j++) {
      assertThat(got.data()[j]).isCloseTo(expected.data()[j], within(1e-12));
    }
  }

  @Test
  void syntheticProblemHasTheAssumedGeometry() {
    SyntheticMergeProblem.Spec spec = new SyntheticMergeProblem.Spec();
    SyntheticMergeProblem problem = new SyntheticMergeProblem(spec);
    DenseMatrix[] as = new DenseMatrix[2];
    DenseMatrix[] bs = new DenseMatrix[2];
    double[] s = new double[2];
    for (int i = 0; i < 2; i++) {
      LoraAdapter a = problem.adapter(i, MODULE);
      as[i] = a.factors(MODULE).a();
      bs[i] = a.factors(MODULE).b();
      s[i] = a.config().scaling(MODULE);
    }
    assertThat(s[0]).isNotEqualTo(s[1]); // rslora on the second adapter
    HeadDecomposition h = new HeadDecomposition(problem.head(), s, as, bs);
    double[] g = h.frobeniusGram();
    assertThat(Math.sqrt(g[0])).isCloseTo(spec.rho, within(1e-12));
    assertThat(Math.sqrt(g[4])).isCloseTo(problem.theta(0), within(1e-12));
    assertThat(Math.sqrt(g[8])).isCloseTo(problem.theta(1), within(1e-12));
    assertThat(g[1]).isZero();
    assertThat(g[5]).isZero();
    double[] comps = new double[3 * spec.classes];
    double[] scratch = new double[h.scratchLength()];
    for (int t = 0; t < 3; t++) {
      SyntheticMergeProblem.Samples data = problem.dataset(t);
      assertThat(data.size()).isEqualTo((t == 0 ? spec.classes : spec.taskClasses) * spec.samplesPerClass);
      for (int n = 0; n < data.size(); n++) {
        h.project(data.features(), n * spec.dim(), scratch, comps, 0);
        for (int c = 0; c < 3; c++) {
          for (int k = 0; k < spec.classes; k++) {
            if (c != t) {
              assertThat(comps[c * spec.classes + k]).as("dataset %d component %d", t, c).isZero();
            }
          }
        }
      }
    }
  }
}
