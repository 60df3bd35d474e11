package io.loraspace.common.correct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** SafeLoRA (factored) against a direct implementation of PEFT PR #2201's formulas (DenseReference). */
class SafeLoraTest {
  /** Modules of an adapter: displacements with clustered spectra, updates of varied overlap; two are identical. */
  private static final class Adapter {
    final List<Displacement> displacements = new ArrayList<>();
    final List<LoraUpdate> updates = new ArrayList<>();

    Adapter(long seed) {
      Random rnd = new Random(seed);
      int[][] shapes = {{48, 32}, {32, 32}, {16, 32}, {48, 32}, {40, 24}, {24, 40}, {48, 32}};
      for (int i = 0; i < shapes.length; i++) {
        int out = shapes[i][0];
        int in = shapes[i][1];
        if (i == shapes.length - 1) {
          // A tie: the same module again.
          displacements.add(new Displacement("m" + i, displacements.get(0).matrix().copy()));
          updates.add(updates.get(0));
          continue;
        }
        double[] sigma = CorrectTesting.plateaus(new double[] {2, 1, 0.2}, new int[] {3, 3, 6}, 1e-3, rnd);
        DenseMatrix u0 = CorrectTesting.orthonormal(out, 12, rnd);
        DenseMatrix v0 = CorrectTesting.orthonormal(in, 12, rnd);
        displacements.add(new Displacement("m" + i, CorrectTesting.planted(u0, sigma, v0)));
        updates.add(CorrectTesting.update(u0.columns(0, 3), v0.columns(0, 3), 4, 0.2 * i, rnd));
      }
    }
  }

  @Test
  void projectedFactorAndCosineEqualThePrFormulas() {
    Adapter ad = new Adapter(1);
    SafeLora m = new SafeLora(SafeLora.Selection.NUMBER, 0.5, 3);
    for (int i = 0; i < ad.updates.size(); i++) {
      LoraUpdate w = ad.updates.get(i);
      ModuleCorrection c = m.correct(ad.displacements.get(i), w);
      DenseReference.Safe ref = DenseReference.safeLora(ad.displacements.get(i).matrix(), w.a(), w.b());
      assertThat(c.a()).isNull();
      assertThat(Matrices.relativeFrobeniusDiff(c.b(), ref.projectedB)).isLessThan(1e-12);
      assertThat(c.figure("cos")).as("module %d", i).isEqualTo(ref.cos);
    }
  }

  private static void assertSelectionMatches(Adapter ad, boolean number, double threshold, int k) {
    SafeLora m = new SafeLora(number ? SafeLora.Selection.NUMBER : SafeLora.Selection.THRESHOLD, threshold, k);
    Map<String, ModuleCorrection> outcomes = new LinkedHashMap<>();
    double[] cos = new double[ad.updates.size()];
    for (int i = 0; i < cos.length; i++) {
      LoraUpdate w = ad.updates.get(i);
      outcomes.put("m" + i, m.correct(ad.displacements.get(i), w));
      cos[i] = DenseReference.safeLora(ad.displacements.get(i).matrix(), w.a(), w.b()).cos;
    }
    List<String> expected = new ArrayList<>();
    for (int i : DenseReference.select(cos, number, threshold, k)) {
      expected.add("m" + i);
    }
    Set<String> got = m.select(outcomes);
    assertThat(got).as("number=%s threshold=%s k=%d, cos=%s", number, threshold, k, java.util.Arrays.toString(cos))
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void numberModeSelectsTheKLowestWithTiesIncluded() {
    Adapter ad = new Adapter(2);
    for (int k = 1; k <= 8; k++) {
      assertSelectionMatches(ad, true, 0.5, k);
    }
    // m0 and m6 are the same module: whenever one is selected, so is the other.
    SafeLora m = new SafeLora(SafeLora.Selection.NUMBER, 0.5, 1);
    Map<String, ModuleCorrection> outcomes = new LinkedHashMap<>();
    for (int i = 0; i < ad.updates.size(); i++) {
      outcomes.put("m" + i, m.correct(ad.displacements.get(i), ad.updates.get(i)));
    }
    double lowest = outcomes.values().stream().mapToDouble(c -> c.figure("cos")).min().orElseThrow();
    Set<String> one = m.select(outcomes);
    assertThat(one).hasSizeGreaterThanOrEqualTo(1);
    if (outcomes.get("m0").figure("cos") == lowest) {
      assertThat(one).contains("m0", "m6");
    }
  }

  @Test
  void thresholdModeSelectsCosinesAtOrBelowTheThreshold() {
    Adapter ad = new Adapter(3);
    for (double t : new double[] {-1, 0, 0.1, 0.3, 0.5, 0.9, 1.0}) {
      assertSelectionMatches(ad, false, t, 10);
    }
  }

  @Test
  void zeroDisplacementIsNeverProjected() {
    Random rnd = new Random(4);
    LoraUpdate w = CorrectTesting.update(DenseMatrix.zeros(20, 0), DenseMatrix.zeros(10, 0), 2, 0, rnd);
    SafeLora m = new SafeLora(SafeLora.Selection.THRESHOLD, 1.0, 10);
    ModuleCorrection c = m.correct(new Displacement("z", DenseMatrix.zeros(20, 10)), w);
    assertThat(c.figure("cos")).isNaN();
    assertThat(m.select(Map.of("z", c))).isEmpty();
  }

  @Test
  void badParametersFailNamingThem() {
    assertThatThrownBy(() -> new SafeLora(SafeLora.Selection.NUMBER, 0.5, 0)).isInstanceOf(ArgumentException.class)
        .hasMessage("SafeLoRA number of projected layers is 0, expected ≥ 1");
  }
}
