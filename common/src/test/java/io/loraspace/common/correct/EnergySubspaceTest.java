package io.loraspace.common.correct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.EnergySubspace;
import io.loraspace.common.linalg.Subspaces;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The energy-targeted randomized subspace against full SVDs and planted exact subspaces. */
class EnergySubspaceTest {
  private static EnergySubspace.Options accurate() {
    EnergySubspace.Options o = new EnergySubspace.Options();
    o.tolerance = 1e-12;
    o.maxPowerIterations = 80;
    return o;
  }

  @ParameterizedTest(name = "τ = {0}")
  @ValueSource(doubles = {0.3, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0})
  void tauPicksTheSameKAsAFullSvd(double tau) {
    Random rnd = new Random(42);
    // Full rank 200: plateaus of repeated values (5 × 4, 20 × 2, 60 × 0.5) and a flat tail, jittered by 1e-3.
    double[] sigma = CorrectTesting.plateaus(new double[] {4, 2, 0.5, 0.1}, new int[] {5, 20, 60, 115}, 1e-3, rnd);
    DenseMatrix d = CorrectTesting.planted(CorrectTesting.orthonormal(260, 200, rnd), sigma,
        CorrectTesting.orthonormal(200, 200, rnd));
    EnergySubspace.Options o = new EnergySubspace.Options();
    o.energy = tau;
    EnergySubspace s = EnergySubspace.of(d, o);
    DenseReference.Csu full = DenseReference.subspace(d, tau);
    assertThat(s.k()).isEqualTo(full.k);
    assertThat(s.energyShare()).isGreaterThanOrEqualTo(tau * (1 - 1e-12));
    if (s.k() > 1) {
      double below = 0;
      for (int j = 0; j < s.k() - 1; j++) {
        below += s.sketchValues()[j] * s.sketchValues()[j];
      }
      assertThat(below / s.totalEnergy()).isLessThan(tau);
    }
  }

  private static void assertExactSubspace(double[] sigma, double tau, int expectedK) {
    Random rnd = new Random(7);
    int d = 4096;
    DenseMatrix u0 = CorrectTesting.orthonormal(d, sigma.length, rnd);
    DenseMatrix v0 = CorrectTesting.orthonormal(d, sigma.length, rnd);
    DenseMatrix m = CorrectTesting.planted(u0, sigma, v0);
    EnergySubspace.Options o = accurate();
    o.energy = tau;
    EnergySubspace s = EnergySubspace.of(m, o);
    assertThat(s.k()).isEqualTo(expectedK);
    assertThat(Subspaces.maxSinPrincipalAngle(u0.columns(0, expectedK), s.u())).isLessThanOrEqualTo(1e-8);
    assertThat(Subspaces.maxSinPrincipalAngle(v0.columns(0, expectedK), s.v())).isLessThanOrEqualTo(1e-8);
    for (int j = 0; j < expectedK; j++) {
      assertThat(s.singularValues()[j]).isCloseTo(sigma[j], within(1e-10 * sigma[0]));
    }
  }

  @Test
  void subspaceEqualsTheExactOneAtD4096OnADecayingSpectrum() {
    double[] sigma = new double[400];
    for (int j = 0; j < sigma.length; j++) {
      sigma[j] = Math.pow(0.97, j);
    }
    // Σ_{j<k} 0.97^{2j} ≥ 0.9 Σ_j 0.97^{2j} first at k = 38.
    assertExactSubspace(sigma, 0.9, 38);
  }

  @Test
  void subspaceEqualsTheExactOneAtD4096OnAFlatSpectrum() {
    // 40 exactly repeated values, then a flat tail of 360: the plateau holds 40 / 40.9 = 0.978 of the energy.
    double[] sigma = CorrectTesting.plateaus(new double[] {1.0, 0.05}, new int[] {40, 360}, 0, new Random(1));
    assertExactSubspace(sigma, 0.97, 40);
  }

  @Test
  void exactlyLowRankWithTauOneGivesItsRank() {
    Random rnd = new Random(3);
    double[] sigma = CorrectTesting.plateaus(new double[] {2, 1}, new int[] {3, 4}, 0, rnd);
    DenseMatrix d = CorrectTesting.planted(CorrectTesting.orthonormal(90, 7, rnd), sigma,
        CorrectTesting.orthonormal(70, 7, rnd));
    EnergySubspace.Options o = new EnergySubspace.Options();
    o.energy = 1.0;
    EnergySubspace s = EnergySubspace.of(d, o);
    assertThat(s.k()).isEqualTo(7);
    assertThat(s.energyShare()).isCloseTo(1.0, within(1e-12));
    assertThat(s.residual()).isLessThan(1e-12);
  }

  @Test
  void zeroMatrixHasAnEmptySubspace() {
    EnergySubspace s = EnergySubspace.of(DenseMatrix.zeros(30, 20), new EnergySubspace.Options());
    assertThat(s.k()).isZero();
    assertThat(s.u().cols()).isZero();
    assertThat(s.v().rows()).isEqualTo(20);
    assertThat(s.energyShare()).isEqualTo(1.0);
  }

  @Test
  void sameSeedGivesTheSameBits() {
    Random rnd = new Random(5);
    DenseMatrix d = CorrectTesting.gaussian(120, 90, rnd);
    EnergySubspace a = EnergySubspace.of(d, new EnergySubspace.Options());
    EnergySubspace b = EnergySubspace.of(d, new EnergySubspace.Options());
    assertThat(b.u().data()).containsExactly(a.u().data());
    assertThat(b.v().data()).containsExactly(a.v().data());
  }

  @Test
  void badOptionsFailNamingTheValue() {
    EnergySubspace.Options o = new EnergySubspace.Options();
    o.energy = 0;
    assertThatThrownBy(() -> EnergySubspace.of(DenseMatrix.zeros(3, 3), o)).isInstanceOf(ArgumentException.class)
        .hasMessage("Energy fraction τ is 0.0, expected in (0, 1]");
    o.energy = 1.5;
    assertThatThrownBy(() -> EnergySubspace.of(DenseMatrix.zeros(3, 3), o)).isInstanceOf(ArgumentException.class)
        .hasMessage("Energy fraction τ is 1.5, expected in (0, 1]");
  }
}
