package io.loraspace.common.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.Cholesky;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.LinalgTesting;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PlantedSvd;
import io.loraspace.common.linalg.PlantedSvd.Spectrum;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.Subspaces;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * CorDA IPA/KPA and PiSSA by partial singular triplets equal the full-SVD route to 1e-8 (the update s·B·A and the
 * subspaces of B and Aᵀ, sin θ) on decaying, flat and clustered spectra; a tiny gap at r makes eigensolver=auto take
 * the full SVD and say why, and eigensolver=partial fail.
 */
class PartialRoutesTest {
  private static final double S = 2.0;

  /** A covariance, and W with {@code W (C + λI) = planted}, λ = CorDA's first damping. */
  private static final class CordaCase {
    final DenseMatrix w;
    final DenseMatrix c;

    CordaCase(int out, int in, double[] sigma, long seed) {
      Random rnd = new Random(seed);
      DenseMatrix x = LinalgTesting.gaussian(in, 2 * in, rnd);
      c = Matrices.multiply(x, false, x, true);
      Matrices.scale(1.0 / (2 * in), c);
      double lambda = Corda.INITIAL_DAMPING * Matrices.trace(c) / in;
      DenseMatrix m = PlantedSvd.of(out, in, sigma, seed + 1).a;
      w = Cholesky.factor(c, lambda).solve(m.transpose()).transpose();
    }
  }

  private static InitFactors run(String method, DenseMatrix w, DenseMatrix c, int r, EigenSolver solver,
      String[] solverOut) {
    switch (method) {
      case "pissa": {
        TripletInit p = Pissa.init(w, r, S, solver);
        solverOut[0] = p.solver;
        solverOut[1] = p.fallbackReason;
        return p.factors;
      }
      case "lora-one": {
        // w plays the mean gradient: LoRA-One factors its negation.
        TripletInit lr = LoraOne.init("m", w, r, S, 64.0, solver);
        solverOut[0] = lr.solver;
        solverOut[1] = lr.fallbackReason;
        return lr.factors;
      }
      default: {
        Corda.Result cr = Corda.init(w, c, r, S, method.equals("ipa") ? Corda.Mode.IPA : Corda.Mode.KPA, solver);
        solverOut[0] = cr.solver;
        solverOut[1] = cr.fallbackReason;
        return cr.factors;
      }
    }
  }

  private static DenseMatrix inputs(String method, int out, int in, Spectrum spectrum, int r, long seed,
      DenseMatrix[] cOut) {
    double[] sigma = spectrum.values(Math.min(out, in), r, !method.equals("kpa"));
    if (method.equals("pissa") || method.equals("lora-one")) {
      return PlantedSvd.of(out, in, sigma, seed).a;
    }
    CordaCase cc = new CordaCase(out, in, sigma, seed);
    cOut[0] = cc.c;
    return cc.w;
  }

  private static void assertSameUpdate(InitFactors partial, InitFactors full) {
    assertThat(Matrices.relativeFrobeniusDiff(partial.delta(), full.delta())).isLessThan(1e-8);
    assertThat(Subspaces.maxSinPrincipalAngle(Qr.of(partial.b()).q(), Qr.of(full.b()).q())).isLessThan(1e-8);
    assertThat(Subspaces.maxSinPrincipalAngle(Qr.of(partial.a().transpose()).q(), Qr.of(full.a().transpose()).q()))
        .isLessThan(1e-8);
  }

  @ParameterizedTest(name = "{0} {1} {2}×{3}")
  @CsvSource({"ipa,DECAYING,160,120", "ipa,FLAT,120,160", "ipa,CLUSTERED,160,120", "kpa,DECAYING,160,120",
      "kpa,FLAT,120,160", "kpa,CLUSTERED,120,120", "pissa,DECAYING,120,160", "pissa,FLAT,160,120",
      "pissa,CLUSTERED,160,120", "lora-one,DECAYING,160,120", "lora-one,FLAT,120,160", "lora-one,CLUSTERED,160,120"})
  void partialEqualsFull(String method, Spectrum spectrum, int out, int in) {
    DenseMatrix[] c = new DenseMatrix[1];
    DenseMatrix w = inputs(method, out, in, spectrum, 4, out * 7L + in, c);
    String[] partialSolver = new String[2];
    InitFactors partial = run(method, w, c[0], 4, EigenSolver.PARTIAL, partialSolver);
    InitFactors full = run(method, w, c[0], 4, EigenSolver.FULL, new String[2]);
    assertThat(partialSolver[0]).isEqualTo("partial");
    assertSameUpdate(partial, full);
    assertThat(Matrices.relativeFrobeniusDiff(partial.residualOf(w), full.residualOf(w))).isLessThan(1e-8);
  }

  /**
   * eigensolver=auto and full on a module where auto tries the partial route at r = 8: 1100×1024 for CorDA (k = 1024,
   * a budget of 10 restarts for the largest triplets; at 600×512 it would be 5, the 2 that measure the residual's rate
   * and 3 by cost, before the full route is the cheaper one: EigenSolver.topRestartBudget), 1300×1200 for PiSSA and
   * LoRA-One, whose matrix is already formed and whose full route at 1100×1024 is small enough for auto to take it at
   * once (EigenSolver.SMALL_FORMED_TOP_FLOPS; {@link #autoTakesTheFullRouteAtOnceForASmallFormedMatrix}).
   */
  private static final class AutoAndFull {
    final InitFactors auto;
    final InitFactors full;
    final String[] solver = new String[2];

    AutoAndFull(String method, Spectrum spectrum, long seed) {
      this(method, spectrum, seed, formed(method) ? 1300 : 1100, formed(method) ? 1200 : 1024);
    }

    AutoAndFull(String method, Spectrum spectrum, long seed, int out, int in) {
      DenseMatrix[] c = new DenseMatrix[1];
      DenseMatrix w = inputs(method, out, in, spectrum, 8, seed, c);
      auto = run(method, w, c[0], 8, EigenSolver.AUTO, solver);
      full = run(method, w, c[0], 8, EigenSolver.FULL, new String[2]);
    }

    static boolean formed(String method) {
      return method.equals("pissa") || method.equals("lora-one");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"pissa", "lora-one"})
  void autoTakesTheFullRouteAtOnceForASmallFormedMatrix(String method) {
    // A decaying spectrum, where the partial route converges (autoTakesThePartialRouteWhereTheGapAtRAllowsIt at
    // 1300×1200): at 1100×1024 the full route is ≈ 4 GFLOP, under the threshold, so auto does not try.
    AutoAndFull r = new AutoAndFull(method, Spectrum.DECAYING, 17, 1100, 1024);
    assertThat(r.solver[0]).isEqualTo("full");
    assertThat(r.solver[1]).isNull();
    assertThat(Matrices.maxAbsDiff(r.auto.delta(), r.full.delta())).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ipa", "kpa", "pissa", "lora-one"})
  void autoTakesThePartialRouteWhereTheGapAtRAllowsIt(String method) {
    AutoAndFull r = new AutoAndFull(method, Spectrum.DECAYING, 17);
    assertThat(r.solver[0]).as(String.valueOf(r.solver[1])).isEqualTo("partial");
    assertThat(r.solver[1]).isNull();
    assertSameUpdate(r.auto, r.full);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"ipa", "kpa", "pissa", "lora-one"})
  void aTinyGapAtRMakesAutoTakeTheFullSvdAndSayWhy(String method) {
    AutoAndFull r = new AutoAndFull(method, Spectrum.TINY_GAP, 23);
    assertThat(r.solver[0]).isEqualTo("partial→full");
    assertThat(r.solver[1]).containsAnyOf("Partial SVD not verified: sin θ bound ",
        "Partial eigensolver did not converge");
    assertThat(Matrices.maxAbsDiff(r.auto.delta(), r.full.delta())).isZero();
  }

  @Test
  void partialFailsOnATinyGapNamingTheBound() {
    DenseMatrix w = PlantedSvd.of(160, 120, Spectrum.TINY_GAP.values(120, 4, true), 3).a;
    assertThatThrownBy(() -> Pissa.init(w, 4, S, EigenSolver.PARTIAL)).isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial SVD not verified: sin θ bound ")
        .hasMessageEndingWith("; r = 4, LARGEST)");
  }

  @Test
  void cordaDecidesThePeftInverseCheckByTheConditionBoundWithoutAnInverse() {
    CordaCase cc = new CordaCase(60, 50, Spectrum.DECAYING.values(50, 4, true), 5);
    Corda.Result r = Corda.init(cc.w, cc.c, 4, S, Corda.Mode.IPA, EigenSolver.FULL);
    assertThat(r.inverseCheck).isEqualTo("bound");
    assertThat(r.damping).isEqualTo(Corda.INITIAL_DAMPING * (Matrices.trace(cc.c) / 50));
  }

  /** C = Q diag(λ) Qᵀ with λ_min = −(1 − δ)·0.01·mean(λ): C + 0.01·mean(diag C)·I has smallest eigenvalue ≈ δ·λ. */
  private static DenseMatrix nearlySingularAfterDamping(int n, double delta, long seed) {
    double[] values = new double[n];
    double rest = 0;
    for (int i = 0; i < n - 1; i++) {
      values[i] = 1 + i;
      rest += values[i];
    }
    double c = Corda.INITIAL_DAMPING * (1 - delta);
    values[n - 1] = -c * rest / (n + c);
    return LinalgTesting.withSpectrum(values, LinalgTesting.orthogonal(n, new Random(seed)));
  }

  @Test
  void cordaFormsPeftsExplicitCheckWhenTheBoundIsTooLooseAndItPasses() {
    DenseMatrix c = nearlySingularAfterDamping(50, 1e-9, 7);
    DenseMatrix w = LinalgTesting.gaussian(40, 50, new Random(8));
    Corda.Result r = Corda.init(w, c, 3, S, Corda.Mode.IPA, EigenSolver.FULL);
    assertThat(Cholesky.factor(c, r.damping).inverseResidualBound()).isGreaterThan(Corda.INVERSE_ERROR);
    assertThat(r.inverseCheck).isEqualTo("explicit");
    assertThat(r.damping).isEqualTo(Corda.INITIAL_DAMPING * (Matrices.trace(c) / 50));
  }

  @Test
  void cordaDoublesTheDampingWhileTheInverseIsInaccurate() {
    DenseMatrix c = nearlySingularAfterDamping(50, 1e-15, 9);
    DenseMatrix w = LinalgTesting.gaussian(40, 50, new Random(10));
    Corda.Result r = Corda.init(w, c, 3, S, Corda.Mode.IPA, EigenSolver.FULL);
    assertThat(r.damping).isEqualTo(2 * Corda.INITIAL_DAMPING * (Matrices.trace(c) / 50));
    assertThat(r.inverseCheck).isEqualTo("bound");
  }
}
