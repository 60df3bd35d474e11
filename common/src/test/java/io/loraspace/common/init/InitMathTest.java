package io.loraspace.common.init;

import static io.loraspace.common.linalg.LinalgTesting.gaussian;
import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static io.loraspace.common.linalg.LinalgTesting.naiveMultiply;
import static io.loraspace.common.linalg.LinalgTesting.orthogonal;
import static io.loraspace.common.linalg.LinalgTesting.withSpectrum;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.LinalgTesting;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.SymmetricEigen;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The init methods' math against definitions, naive references and planted ground truth. */
class InitMathTest {
  private static DenseMatrix randomCovariance(int n, int samples, Random rnd) {
    DenseMatrix x = gaussian(n, samples, rnd);
    DenseMatrix c = naiveMultiply(x, x.transpose());
    Matrices.scale(1.0 / samples, c);
    return c;
  }

  private static DenseMatrix randomOrthonormal(int n, int k, Random rnd) {
    return orthogonal(n, rnd).columns(0, k);
  }

  private static double rel(DenseMatrix a, DenseMatrix b) {
    return Matrices.relativeFrobeniusDiff(a, b);
  }

  @Test
  void outputCovarianceEqualsPerSampleOutputsSummedByHand() {
    Random rnd = new Random(1);
    int in = 7;
    int out = 5;
    DenseMatrix w = gaussian(out, in, rnd);
    double[] b = new double[out];
    for (int i = 0; i < out; i++) {
      b[i] = rnd.nextGaussian();
    }
    int samples = 9;
    DenseMatrix s = DenseMatrix.zeros(in, in);
    double[] u = new double[in];
    double sumT2 = 0;
    DenseMatrix direct = DenseMatrix.zeros(out, out);
    for (int n = 0; n < samples; n++) {
      int tokens = 1 + rnd.nextInt(6);
      double[] xhat = new double[in];
      double[] hhat = new double[out];
      for (int t = 0; t < tokens; t++) {
        double[] x = new double[in];
        for (int j = 0; j < in; j++) {
          x[j] = rnd.nextGaussian();
          xhat[j] += x[j];
        }
        for (int i = 0; i < out; i++) {
          double y = b[i];
          for (int j = 0; j < in; j++) {
            y += w.get(i, j) * x[j];
          }
          hhat[i] += y;
        }
      }
      for (int i = 0; i < in; i++) {
        u[i] += tokens * xhat[i];
        for (int j = 0; j < in; j++) {
          s.add(i, j, xhat[i] * xhat[j]);
        }
      }
      sumT2 += (double) tokens * tokens;
      for (int i = 0; i < out; i++) {
        for (int j = 0; j < out; j++) {
          direct.add(i, j, hhat[i] * hhat[j] / samples);
        }
      }
    }
    assertThat(rel(OutputCovariance.perSample(w, b, s, u, sumT2, samples), direct)).isLessThan(1e-13);
  }

  @Test
  void scLoraUpdateIsTheProjectionOfTheOutputTheorem2() {
    Random rnd = new Random(2);
    int out = 24;
    int in = 16;
    DenseMatrix w = gaussian(out, in, rnd);
    ScLora.Subspace sub = ScLora.solve(randomCovariance(out, 40, rnd), randomCovariance(out, 40, rnd), 40, 0.5, 6,
        EigenSolver.FULL);
    double s = 32.0 / 6;
    InitFactors f = ScLora.factors(w, sub, s);
    DenseMatrix q = sub.q();
    assertThat(rel(naiveMultiply(q.transpose(), q), DenseMatrix.identity(6))).isLessThan(1e-13);
    for (int trial = 0; trial < 5; trial++) {
      DenseMatrix x = gaussian(in, 1, rnd);
      DenseMatrix sbax = naiveMultiply(f.b(), naiveMultiply(f.a(), x));
      Matrices.scale(s, sbax);
      DenseMatrix wx = naiveMultiply(w, x);
      DenseMatrix projection = naiveMultiply(q, naiveMultiply(q.transpose(), wx));
      assertThat(rel(sbax, projection)).isLessThan(1e-12);
    }
    DenseMatrix res = f.residualOf(w);
    Matrices.axpy(1.0, f.delta(), res);
    assertThat(rel(res, w)).isLessThan(1e-14);
  }

  @Test
  void scLoraSubspaceMaximisesTheRewardTheorem1() {
    Random rnd = new Random(3);
    int out = 20;
    int r = 4;
    DenseMatrix plus = randomCovariance(out, 30, rnd);
    DenseMatrix minus = randomCovariance(out, 30, rnd);
    for (double beta : new double[] {0.0, 0.3, 0.7, 0.95}) {
      ScLora.Subspace best = ScLora.solve(plus, minus, 30, beta, r, EigenSolver.FULL);
      // R(S) equals the sum of the r largest eigenvalues of ΔCov (Jacobi, an independent solver).
      double[] jac = LinalgTesting.jacobiEigenvalues(ScLora.difference(plus, minus, beta));
      double top = 0;
      for (int i = 0; i < r; i++) {
        top += jac[jac.length - 1 - i];
      }
      assertThat(best.reward()).isCloseTo(top, org.assertj.core.data.Offset.offset(1e-10 * Math.abs(top) + 1e-12));
      for (int trial = 0; trial < 200; trial++) {
        DenseMatrix q = randomOrthonormal(out, r, rnd);
        double rq = (1 - beta) * ScLora.captured(q, plus) - beta * ScLora.captured(q, minus);
        assertThat(best.reward()).isGreaterThanOrEqualTo(rq);
      }
      DenseMatrix plusOnly = SymmetricEigen.top(plus, r).vectors();
      double rPlusOnly = (1 - beta) * ScLora.captured(plusOnly, plus) - beta * ScLora.captured(plusOnly, minus);
      assertThat(best.reward()).isGreaterThanOrEqualTo(rPlusOnly - 1e-12);
      if (beta > 0) {
        assertThat(best.reward()).isGreaterThan(rPlusOnly + 1e-9);
      }
    }
  }

  @Test
  void scLoraRecoversThePlantedSubspaces() {
    Random rnd = new Random(4);
    int out = 48;
    DenseMatrix basis = orthogonal(out, rnd);
    // D+ lives in directions 0..5, D− in 4..9: they share 4 and 5.
    DenseMatrix plusBasis = basis.columns(0, 6);
    DenseMatrix minusBasis = basis.columns(4, 10);
    double[] plusSpectrum = new double[out];
    double[] minusSpectrum = new double[out];
    Arrays.fill(plusSpectrum, 0.01);
    Arrays.fill(minusSpectrum, 0.01);
    for (int i = 0; i < 6; i++) {
      plusSpectrum[i] = 10 - i;
      minusSpectrum[i + 4] = 10 - i;
    }
    DenseMatrix plus = withSpectrum(plusSpectrum, basis);
    DenseMatrix minus = withSpectrum(minusSpectrum, basis);
    ScLora.Subspace b0 = ScLora.solve(plus, minus, 1000, 0.0, 6, EigenSolver.FULL);
    assertThat(maxSinPrincipalAngle(plusBasis, b0.q())).isLessThan(1e-10);
    ScLora.Subspace b9 = ScLora.solve(plus, minus, 1000, 0.9, 4, EigenSolver.FULL);
    // β = 0.9: the four D+ directions that D− does not use, and nothing of D−.
    assertThat(maxSinPrincipalAngle(basis.columns(0, 4), b9.q())).isLessThan(1e-10);
    assertThat(naiveMultiply(minusBasis.transpose(), b9.q()).frobeniusNorm()).isLessThan(1e-10);
    assertThat(b9.capturedMinus()).isLessThan(0.05);
    assertThat(b0.capturedMinus()).isGreaterThan(15); // β = 0 takes the shared directions (9 + 10 of D−'s energy)
  }

  @Test
  void partialAndFullSolversChooseTheSameSubspace() {
    Random rnd = new Random(5);
    int out = 640;
    double[] spec = new double[out];
    for (int i = 0; i < out; i++) {
      spec[i] = 100 * Math.pow(0.9, i) - (i % 3 == 0 ? 20 * Math.pow(0.95, i) : 0);
    }
    DenseMatrix plus = withSpectrum(spec, orthogonal(out, rnd));
    DenseMatrix minus = randomCovariance(out, 50, rnd);
    assertThat(EigenSolver.AUTO.resolve(out, 8)).isEqualTo(EigenSolver.PARTIAL);
    ScLora.Subspace full = ScLora.solve(plus, minus, 50, 0.5, 8, EigenSolver.FULL);
    ScLora.Subspace partial = ScLora.solve(plus, minus, 50, 0.5, 8, EigenSolver.AUTO);
    assertThat(maxSinPrincipalAngle(full.q(), partial.q())).isLessThan(1e-8);
    for (int i = 0; i < 8; i++) {
      assertThat(partial.eigenvalues()[i]).isCloseTo(full.eigenvalues()[i],
          org.assertj.core.data.Offset.offset(1e-9 * Math.abs(full.eigenvalues()[0])));
    }
  }

  @Test
  void scLoraRejectsBadArgumentsNamingTheValue() {
    Random rnd = new Random(6);
    DenseMatrix c = randomCovariance(8, 20, rnd);
    assertThatThrownBy(() -> ScLora.solve(c, c, 20, 1.5, 2, EigenSolver.FULL)).isInstanceOf(ArgumentException.class)
        .hasMessage("SC-LoRA: β = 1.5 is outside [0, 1]");
    assertThatThrownBy(() -> ScLora.solve(c, c, 20, -0.1, 2, EigenSolver.FULL))
        .hasMessageContaining("β = -0.1 is outside [0, 1]");
    assertThatThrownBy(() -> ScLora.solve(c, c, 20, 0.5, 9, EigenSolver.FULL))
        .hasMessageContaining("rank r = 9 is larger than the module's output dimension 8");
    assertThatThrownBy(() -> ScLora.solve(c, c, 3, 1.0, 2, EigenSolver.FULL))
        .hasMessageContaining("β = 1 with 3 D− samples < out − r = 6");
  }

  @Test
  void pissaIsTheBestRankRApproximationSplitEvenly() {
    Random rnd = new Random(7);
    DenseMatrix w = gaussian(12, 9, rnd);
    double s = 2.0;
    InitFactors f = Pissa.init(w, 3, s);
    // Independent reference: top eigenvectors of WᵀW give V_r; W V_r V_rᵀ is the best rank-3 approximation.
    DenseMatrix vr = SymmetricEigen.top(naiveMultiply(w.transpose(), w), 3).vectors();
    DenseMatrix best = naiveMultiply(naiveMultiply(w, vr), vr.transpose());
    assertThat(rel(f.delta(), best)).isLessThan(1e-12);
    // Balanced: A Aᵀ = B ᵀB = Σ_r / s.
    assertThat(rel(naiveMultiply(f.a(), f.a().transpose()), naiveMultiply(f.b().transpose(), f.b())))
        .isLessThan(1e-12);
    DenseMatrix back = f.residualOf(w);
    Matrices.axpy(1.0, f.delta(), back);
    assertThat(rel(back, w)).isLessThan(1e-14);
    // The report's spectrum: every singular value the full route computed (√ of WᵀW's eigenvalues), not only r.
    double[] ev = SymmetricEigen.full(naiveMultiply(w.transpose(), w)).descending().values();
    assertThat(f.spectrum()).hasSize(9);
    for (int i = 0; i < 9; i++) {
      assertThat(f.spectrum()[i] * f.spectrum()[i]).as("σ_%d²", i + 1).isCloseTo(ev[i], within(1e-12 * ev[0]));
    }
    assertThatThrownBy(() -> Pissa.init(w, 10, s)).isInstanceOf(ArgumentException.class)
        .hasMessage("PiSSA: rank r = 10 is larger than the module allows (weight 12×9, r must be in [1, 9])");
  }

  @Test
  void cordaComponentsAddUpToTheWeightAndIpaTakesTheContextWeightedTop() {
    Random rnd = new Random(8);
    int out = 10;
    int in = 8;
    DenseMatrix w = gaussian(out, in, rnd);
    DenseMatrix c = randomCovariance(in, 50, rnd);
    double s = 1.5;
    Corda.Result all = Corda.init(w, c, in, s, Corda.Mode.IPA);
    assertThat(all.damping).isEqualTo(0.01 * Matrices.trace(c) / in);
    assertThat(rel(all.factors.delta(), w)).isLessThan(1e-12);
    Corda.Result ipa = Corda.init(w, c, 3, s, Corda.Mode.IPA);
    Corda.Result kpa = Corda.init(w, c, in - 3, s, Corda.Mode.KPA);
    DenseMatrix sum = ipa.factors.delta();
    Matrices.axpy(1.0, kpa.factors.delta(), sum);
    assertThat(rel(sum, w)).isLessThan(1e-12);
    // IPA: the delta times (C + λI) is the best rank-3 approximation of W (C + λI).
    DenseMatrix damped = c.copy();
    for (int i = 0; i < in; i++) {
      damped.add(i, i, all.damping);
    }
    DenseMatrix wc = naiveMultiply(w, damped);
    DenseMatrix vr = SymmetricEigen.top(naiveMultiply(wc.transpose(), wc), 3).vectors();
    DenseMatrix best = naiveMultiply(naiveMultiply(wc, vr), vr.transpose());
    assertThat(rel(naiveMultiply(ipa.factors.delta(), damped), best)).isLessThan(1e-10);
  }

  @Test
  void evaComponentsAreTheTopEigenvectorsOfTheCentredTokenCovariance() {
    Random rnd = new Random(9);
    int d = 12;
    int n = 400;
    DenseMatrix mix = gaussian(d, d, rnd);
    DenseMatrix gram = DenseMatrix.zeros(d, d);
    double[] sum = new double[d];
    double[][] xs = new double[n][];
    for (int t = 0; t < n; t++) {
      double[] z = new double[d];
      for (int j = 0; j < d; j++) {
        z[j] = rnd.nextGaussian() * (j < 3 ? 5 : 1);
      }
      double[] x = new double[d];
      for (int i = 0; i < d; i++) {
        x[i] = 2.0; // a mean the centring must remove
        for (int j = 0; j < d; j++) {
          x[i] += mix.get(i, j) * z[j] * 0.3;
        }
      }
      xs[t] = x;
      for (int i = 0; i < d; i++) {
        sum[i] += x[i];
        for (int j = 0; j < d; j++) {
          gram.add(i, j, x[i] * x[j]);
        }
      }
    }
    // Naive two-pass centred covariance.
    double[] mean = new double[d];
    for (double[] x : xs) {
      for (int i = 0; i < d; i++) {
        mean[i] += x[i] / n;
      }
    }
    DenseMatrix cov = DenseMatrix.zeros(d, d);
    for (double[] x : xs) {
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          cov.add(i, j, (x[i] - mean[i]) * (x[j] - mean[j]) / n);
        }
      }
    }
    Eva.Components comp = Eva.components(gram, sum, n, 4, EigenSolver.FULL);
    DenseMatrix ref = SymmetricEigen.top(cov, 4).vectors();
    assertThat(maxSinPrincipalAngle(ref, comp.rows.transpose())).isLessThan(1e-9);
    assertThat(comp.ratios[0]).isCloseTo(SymmetricEigen.top(cov, 1).values()[0] / Matrices.trace(cov),
        org.assertj.core.data.Offset.offset(1e-12));
    InitFactors f = Eva.init(comp, 3, 5, 2.0);
    assertThat(f.b().frobeniusNorm()).isZero();
    assertThat(f.needsResidual()).isFalse();
    assertThat(rel(naiveMultiply(f.a(), f.a().transpose()), DenseMatrix.identity(3))).isLessThan(1e-13);
  }

  @Test
  void evaRedistributionKeepsTheGlobalTopRatios() {
    Map<String, double[]> offered = new LinkedHashMap<>();
    offered.put("a", new double[] {0.5, 0.2, 0.1, 0.05});
    offered.put("b", new double[] {0.3, 0.25, 0.01, 0.001});
    offered.put("c", new double[] {0.04, 0.03, 0.02, 0.01});
    Map<String, Integer> ranks = Eva.redistribute(offered, 6);
    // Global top 6: a.5 b.3 b.25 a.2 a.1 a.05
    assertThat(ranks).containsExactly(Map.entry("a", 4), Map.entry("b", 2), Map.entry("c", 0));
  }
}
