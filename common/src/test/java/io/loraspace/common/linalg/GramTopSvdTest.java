package io.loraspace.common.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.PlantedSvd.Spectrum;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The Gram route to the largest singular triplets against the planted truth and against dgesdd ({@link ThinSvd}):
 * tall and wide, decaying, flat and clustered spectra, a Gaussian matrix whose top values sit close together (the
 * Marchenko–Pastur edge of a random-init weight), a rank below r.
 */
class GramTopSvdTest {
  private static void orthonormal(DenseMatrix q, double tol) {
    DenseMatrix g = Matrices.multiply(q, true, q, false);
    for (int i = 0; i < g.rows(); i++) {
      for (int j = 0; j < g.cols(); j++) {
        assertThat(Math.abs(g.get(i, j) - (i == j ? 1 : 0))).as("QᵀQ(%d,%d)", i, j).isLessThan(tol);
      }
    }
  }

  private static DenseMatrix product(DenseMatrix u, double[] s, DenseMatrix v) {
    DenseMatrix us = u.copy();
    for (int j = 0; j < s.length; j++) {
      for (int i = 0; i < us.rows(); i++) {
        us.set(i, j, us.get(i, j) * s[j]);
      }
    }
    return Matrices.multiply(us, false, v, true);
  }

  @ParameterizedTest(name = "{0} {1}×{2} r={3}")
  @CsvSource({"DECAYING,300,200,8", "DECAYING,200,300,8", "FLAT,250,250,6", "CLUSTERED,300,180,5",
      "CLUSTERED,180,300,5"})
  void largestTripletsMatchThePlantedOnesAndDgesdd(Spectrum spectrum, int m, int n, int r) {
    PlantedSvd p = PlantedSvd.of(m, n, spectrum.values(Math.min(m, n), r, true), m * 31L + n);
    GramTopSvd g = GramTopSvd.of(p.a, r);
    assertThat(g.resolved()).isTrue();
    for (int j = 0; j < r; j++) {
      assertThat(Math.abs(g.values()[j] - p.sigma[j])).as("σ_%d", j).isLessThan(1e-12 * p.sigma[0]);
    }
    assertThat(Subspaces.maxSinPrincipalAngle(g.u(), p.u(0, r))).isLessThan(1e-10);
    assertThat(Subspaces.maxSinPrincipalAngle(g.v(), p.v(0, r))).isLessThan(1e-10);
    orthonormal(g.u(), 1e-12);
    orthonormal(g.v(), 1e-12);
    // A V = U Σ column by column (the triplets pair up), and the rank-r truncation equals dgesdd's.
    ThinSvd svd = ThinSvd.of(p.a);
    DenseMatrix reference = product(svd.u().columns(0, r), java.util.Arrays.copyOf(svd.singularValues(), r),
        svd.v().columns(0, r));
    assertThat(Matrices.relativeFrobeniusDiff(product(g.u(), g.values(), g.v()), reference)).isLessThan(1e-10);
    // Every singular value, for the report: equal to dgesdd's where they are above the route's √ε floor.
    assertThat(g.spectrum()).hasSize(Math.min(m, n));
    for (int i = 0; i < g.spectrum().length; i++) {
      if (svd.singularValues()[i] > 1e-6 * svd.singularValues()[0]) {
        assertThat(Math.abs(g.spectrum()[i] - svd.singularValues()[i]) / svd.singularValues()[i]).as("σ_%d", i)
            .isLessThan(1e-9);
      }
    }
  }

  @Test
  void topOfAGaussianMatrixAgreesWithDgesddWithinTheSvdsOwnSensitivity() {
    // A random-init weight: the top singular values are packed at the edge of the Marchenko–Pastur bulk (relative
    // gaps 1e-3 to 1e-2 here), where any method's subspace is only defined to about ε·σ₁/gap.
    Random rnd = new Random(5);
    int m = 400;
    int n = 300;
    int r = 8;
    DenseMatrix a = LinalgTesting.gaussian(m, n, rnd);
    ThinSvd svd = ThinSvd.of(a);
    double[] s = svd.singularValues();
    double gap = s[r - 1] - s[r];
    assertThat(gap / s[0]).isBetween(1e-5, 5e-2);
    GramTopSvd g = GramTopSvd.of(a, r);
    assertThat(g.resolved()).isTrue();
    double sensitivity = Math.ulp(1.0) * s[0] / gap * (s[0] / s[r - 1]) * Math.max(m, n);
    assertThat(Subspaces.maxSinPrincipalAngle(g.v(), svd.v().columns(0, r))).isLessThan(sensitivity);
    assertThat(Subspaces.maxSinPrincipalAngle(g.u(), svd.u().columns(0, r))).isLessThan(sensitivity);
    for (int j = 0; j < r; j++) {
      assertThat(Math.abs(g.values()[j] - s[j])).isLessThan(1e-12 * s[0]);
    }
  }

  @Test
  void repeatedTopValuesGiveTheSameTruncationAndSubspace() {
    // σ₁ = σ₂ = σ₃ and σ₄ = σ₅ exactly, a gap at r = 5: single vectors are not unique, the rank-5 subspace and
    // truncation are.
    int m = 220;
    int n = 160;
    double[] sigma = new double[n];
    for (int i = 0; i < n; i++) {
      sigma[i] = i < 3 ? 2.0 : i < 5 ? 1.5 : 0.8 * Math.exp(-3.0 * i / n);
    }
    PlantedSvd p = PlantedSvd.of(m, n, sigma, 77);
    GramTopSvd g = GramTopSvd.of(p.a, 5);
    assertThat(g.resolved()).isTrue();
    for (int j = 0; j < 5; j++) {
      assertThat(Math.abs(g.values()[j] - sigma[j])).isLessThan(1e-12);
    }
    assertThat(Subspaces.maxSinPrincipalAngle(g.u(), p.u(0, 5))).isLessThan(1e-10);
    assertThat(Subspaces.maxSinPrincipalAngle(g.v(), p.v(0, 5))).isLessThan(1e-10);
    orthonormal(g.u(), 1e-12);
    ThinSvd svd = ThinSvd.of(p.a);
    assertThat(Matrices.relativeFrobeniusDiff(product(g.u(), g.values(), g.v()), product(svd.u().columns(0, 5),
        java.util.Arrays.copyOf(svd.singularValues(), 5), svd.v().columns(0, 5)))).isLessThan(1e-10);
  }

  @Test
  void aRankBelowRIsLeftToTheSvd() {
    Random rnd = new Random(9);
    DenseMatrix a = Matrices.multiply(LinalgTesting.gaussian(120, 3, rnd), false, LinalgTesting.gaussian(90, 3, rnd),
        true);
    GramTopSvd g = GramTopSvd.of(a, 5);
    assertThat(g.resolved()).isFalse();
    assertThat(g.u()).isNull();
    assertThat(GramTopSvd.of(DenseMatrix.zeros(40, 30), 2).resolved()).isFalse();
  }

  @Test
  void badInputIsRefused() {
    DenseMatrix a = DenseMatrix.zeros(10, 8);
    assertThatThrownBy(() -> GramTopSvd.of(a, 9)).isInstanceOf(ArgumentException.class)
        .hasMessage("Requested 9 singular triplets of a 10×8 matrix (r must be in [1, 8])");
    a.set(3, 4, Double.NaN);
    assertThatThrownBy(() -> GramTopSvd.of(a, 2)).isInstanceOf(ArgumentException.class)
        .hasMessage("Matrix for SVD holds a non-finite value NaN");
  }
}
