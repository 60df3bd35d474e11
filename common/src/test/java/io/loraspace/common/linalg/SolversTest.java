package io.loraspace.common.linalg;

import static io.loraspace.common.linalg.LinalgTesting.gaussian;
import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static io.loraspace.common.linalg.LinalgTesting.naiveMultiply;
import static io.loraspace.common.linalg.LinalgTesting.orthogonal;
import static io.loraspace.common.linalg.LinalgTesting.withSpectrum;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SolversTest {
  private static DenseMatrix randomSymmetric(int n, Random rnd) {
    DenseMatrix g = gaussian(n, n, rnd);
    DenseMatrix a = DenseMatrix.zeros(n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        a.set(i, j, g.get(i, j) + g.get(j, i));
      }
    }
    return a;
  }

  @ParameterizedTest(name = "d = {0}")
  @ValueSource(ints = {0, 1, 2, 17, 256})
  void multiplyMatchesNaiveLoops(int d) {
    Random rnd = new Random(d);
    DenseMatrix a = gaussian(d, d + 3, rnd);
    DenseMatrix b = gaussian(d + 3, 5, rnd);
    assertThat(Matrices.maxAbsDiff(Matrices.multiply(a, b), naiveMultiply(a, b))).isLessThan(1e-12 * (d + 3));
    DenseMatrix at = a.transpose();
    assertThat(Matrices.maxAbsDiff(Matrices.multiply(at, true, b, false), naiveMultiply(a, b)))
        .isLessThan(1e-12 * (d + 3));
  }

  @ParameterizedTest(name = "d = {0}")
  @ValueSource(ints = {1, 2, 17, 60})
  void fullEigenMatchesJacobiAndReconstructs(int d) {
    Random rnd = new Random(100 + d);
    DenseMatrix a = randomSymmetric(d, rnd);
    SymmetricEigen.Result r = SymmetricEigen.full(a);
    double[] ref = LinalgTesting.jacobiEigenvalues(a);
    for (int i = 0; i < d; i++) {
      assertThat(r.values()[i]).isCloseTo(ref[i], within(1e-10 * (1 + Math.abs(ref[i]))));
    }
    DenseMatrix v = r.vectors();
    DenseMatrix av = naiveMultiply(a, v);
    for (int j = 0; j < d; j++) {
      for (int i = 0; i < d; i++) {
        assertThat(av.get(i, j)).isCloseTo(r.values()[j] * v.get(i, j), within(1e-10 * d));
      }
    }
    assertThat(Matrices.maxAbsDiff(naiveMultiply(v.transpose(), v), DenseMatrix.identity(d))).isLessThan(1e-12 * d);
  }

  /** Spectra with clustered, repeated and negative eigenvalues; k is chosen at a gap so the subspace is unique. */
  private static double[] spectrum(String kind, int d, Random rnd) {
    double[] v = new double[d];
    for (int i = 0; i < d; i++) {
      switch (kind) {
        case "decaying":
          v[i] = 10 * Math.pow(0.9, i);
          break;
        case "indefinite":
          v[i] = (i % 2 == 0 ? 1 : -1) * (5 + 5 * rnd.nextDouble());
          break;
        case "clustered":
          v[i] = i < 6 ? 3 + 1e-6 * i : (i < 12 ? -3 - 1e-6 * i : 0.1 * rnd.nextGaussian());
          break;
        case "repeated":
          v[i] = i < 6 ? 2.0 : (i < 12 ? -2.0 : 0.2 * rnd.nextGaussian());
          break;
        default:
          throw new IllegalArgumentException(kind);
      }
    }
    return v;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"decaying", "indefinite", "clustered", "repeated"})
  void partialEqualsFullSolverAtBothEnds(String kind) {
    int d = 256;
    Random rnd = new Random(kind.hashCode());
    DenseMatrix a = withSpectrum(spectrum(kind, d, rnd), orthogonal(d, rnd));
    // k = 6 covers a whole cluster / repeated eigenvalue exactly, so the invariant subspace is well defined.
    int k = 6;
    for (PartialSymmetricEigen.Which which : PartialSymmetricEigen.Which.values()) {
      // A decaying spectrum's bottom end is clustered within 1e-11 of ‖A‖ (no Krylov method separates it in
      // reasonable time, see the class javadoc); its SMALLEST case is posed on −A, whose bottom is the decaying top.
      if (kind.equals("decaying") && which == PartialSymmetricEigen.Which.SMALLEST) {
        a = a.copy();
        Matrices.scale(-1.0, a);
      }
      PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(a, k, which);
      SymmetricEigen.Result f = which == PartialSymmetricEigen.Which.LARGEST ? SymmetricEigen.top(a, k)
          : SymmetricEigen.bottom(a, k);
      double scale = Math.abs(f.values()[0]) + 1;
      for (int i = 0; i < k; i++) {
        assertThat(p.values()[i]).as(kind + " " + which + " value " + i).isCloseTo(f.values()[i],
            within(1e-9 * scale));
      }
      assertThat(maxSinPrincipalAngle(p.vectors(), f.vectors())).as(kind + " " + which).isLessThan(1e-8);
      assertThat(p.relativeResidual()).isLessThanOrEqualTo(1e-10);
    }
  }

  @ParameterizedTest(name = "d = {0}")
  @ValueSource(ints = {1, 2, 17})
  void partialWorksOnTinyMatrices(int d) {
    Random rnd = new Random(d * 7L);
    DenseMatrix a = randomSymmetric(d, rnd);
    int k = Math.max(1, d / 3);
    PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(a, k, PartialSymmetricEigen.Which.SMALLEST);
    SymmetricEigen.Result f = SymmetricEigen.bottom(a, k);
    for (int i = 0; i < k; i++) {
      assertThat(p.values()[i]).isCloseTo(f.values()[i], within(1e-9));
    }
  }

  @ParameterizedTest(name = "warm start, d = {0}")
  @ValueSource(ints = {256})
  void warmStartFromTheAnswerConvergesAtOnce(int d) {
    Random rnd = new Random(5);
    DenseMatrix a = withSpectrum(spectrum("decaying", d, rnd), orthogonal(d, rnd));
    SymmetricEigen.Result f = SymmetricEigen.top(a, 8);
    PartialSymmetricEigen.Result p = PartialSymmetricEigen.solve(SymmetricOperator.of(a), 8,
        PartialSymmetricEigen.Which.LARGEST, f.vectors(), PartialSymmetricEigen.Options.defaults());
    PartialSymmetricEigen.Result cold = PartialSymmetricEigen.solve(a, 8, PartialSymmetricEigen.Which.LARGEST);
    assertThat(p.restarts()).isZero();
    assertThat(p.operatorColumns()).isLessThanOrEqualTo(cold.operatorColumns());
    assertThat(maxSinPrincipalAngle(p.vectors(), f.vectors())).isLessThan(1e-8);
  }

  @Test
  void iterationCapFailsLoudlyWithTheResidual() {
    Random rnd = new Random(9);
    DenseMatrix a = withSpectrum(spectrum("clustered", 256, rnd), orthogonal(256, rnd));
    PartialSymmetricEigen.Options o = PartialSymmetricEigen.Options.defaults().withMaxRestarts(1)
        .withKrylovBlocks(2).withTolerance(1e-15);
    assertThatThrownBy(() -> PartialSymmetricEigen.solve(SymmetricOperator.of(a), 3,
        PartialSymmetricEigen.Which.LARGEST, null, o))
        .isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial eigensolver did not converge in 1 restarts: worst relative residual ")
        .hasMessageEndingWith("> tolerance 1.0E-15 (k = 3, d = 256, LARGEST)");
  }

  @ParameterizedTest(name = "{0}×{1}")
  @org.junit.jupiter.params.provider.CsvSource({"1,1", "2,5", "17,4", "40,256", "256,17", "0,3"})
  void svdAndQrReconstruct(int m, int n) {
    Random rnd = new Random(m * 31L + n);
    DenseMatrix a = gaussian(m, n, rnd);
    ThinSvd svd = ThinSvd.of(a);
    int k = Math.min(m, n);
    DenseMatrix us = svd.u().copy();
    for (int j = 0; j < k; j++) {
      for (int i = 0; i < m; i++) {
        us.set(i, j, us.get(i, j) * svd.singularValues()[j]);
      }
      if (j > 0) {
        assertThat(svd.singularValues()[j]).isLessThanOrEqualTo(svd.singularValues()[j - 1]);
      }
    }
    assertThat(Matrices.maxAbsDiff(naiveMultiply(us, svd.v().transpose()), a)).isLessThan(1e-12 * (m + n));
    assertThat(Matrices.maxAbsDiff(naiveMultiply(svd.u().transpose(), svd.u()), DenseMatrix.identity(k)))
        .isLessThan(1e-12 * (m + n));
    Qr qr = Qr.of(a);
    assertThat(Matrices.maxAbsDiff(naiveMultiply(qr.q(), qr.r()), a)).isLessThan(1e-12 * (m + n));
    assertThat(Matrices.maxAbsDiff(naiveMultiply(qr.q().transpose(), qr.q()), DenseMatrix.identity(k)))
        .isLessThan(1e-12 * (m + n));
    for (int j = 0; j < n; j++) {
      for (int i = j + 1; i < k; i++) {
        assertThat(qr.r().get(i, j)).isZero();
      }
    }
  }

  @Test
  void orthonormalizerDropsDependentColumnsAndProjectsOutTheBasis() {
    Random rnd = new Random(3);
    DenseMatrix basis = Qr.of(gaussian(30, 4, rnd)).q();
    DenseMatrix x = gaussian(30, 5, rnd);
    // Column 2 = column 0 + a basis vector: dependent after projection against the basis and column 0.
    for (int i = 0; i < 30; i++) {
      x.set(i, 2, x.get(i, 0) + basis.get(i, 1));
    }
    DenseMatrix q = Orthonormalizer.orthonormalize(x, basis, 1e-10);
    assertThat(q.cols()).isEqualTo(4);
    assertThat(Matrices.maxAbsDiff(naiveMultiply(q.transpose(), q), DenseMatrix.identity(4))).isLessThan(1e-14);
    for (double v : naiveMultiply(basis.transpose(), q).data()) {
      assertThat(Math.abs(v)).isLessThan(1e-14);
    }
  }

  @Test
  void rangeFinderCapturesTheRequestedEnergy() {
    Random rnd = new Random(11);
    int m = 120;
    int n = 90;
    // Planted singular values 2^-j: the top 10 hold 1 - 4^-10 of the energy.
    DenseMatrix u = Qr.of(gaussian(m, n, rnd)).q();
    DenseMatrix v = Qr.of(gaussian(n, n, rnd)).q();
    DenseMatrix us = u.copy();
    double total = 0;
    for (int j = 0; j < n; j++) {
      double s = Math.pow(2, -j);
      total += s * s;
      for (int i = 0; i < m; i++) {
        us.set(i, j, us.get(i, j) * s);
      }
    }
    DenseMatrix a = naiveMultiply(us, v.transpose());
    for (double tau : new double[] {0.5, 0.9, 0.999, 0.9999999}) {
      RandomizedRangeFinder.Result r = RandomizedRangeFinder.find(LinearOperator.of(a), total, tau, 1, 2, 2, 7);
      assertThat(r.capturedShare()).as("tau %s", tau).isGreaterThanOrEqualTo(tau * (1 - 1e-12));
      DenseMatrix q = r.q();
      assertThat(Matrices.maxAbsDiff(naiveMultiply(q.transpose(), q), DenseMatrix.identity(q.cols())))
          .isLessThan(1e-12);
      // Captured energy recomputed independently: ‖QᵀA‖_F².
      double e = 0;
      for (double x : naiveMultiply(q.transpose(), a).data()) {
        e += x * x;
      }
      assertThat(e).isCloseTo(r.capturedEnergy(), within(1e-10 * total));
    }
  }

  @ParameterizedTest(name = "d = {0}")
  @ValueSource(ints = {1, 2, 17, 256})
  void dampedCholeskySolvesAndInverts(int d) {
    Random rnd = new Random(d);
    DenseMatrix g = gaussian(d, d + 2, rnd);
    DenseMatrix c = naiveMultiply(g, g.transpose());
    DenseMatrix b = gaussian(d, 3, rnd);
    double lambda = 0.5;
    DenseMatrix x = Cholesky.factor(c, lambda).solve(b);
    DenseMatrix damped = c.copy();
    for (int i = 0; i < d; i++) {
      damped.add(i, i, lambda);
    }
    assertThat(Matrices.maxAbsDiff(naiveMultiply(damped, x), b)).isLessThan(1e-9 * d);
    DenseMatrix inv = Cholesky.factor(c, lambda).inverse();
    assertThat(Matrices.maxAbsDiff(naiveMultiply(damped, inv), DenseMatrix.identity(d))).isLessThan(1e-8 * d);
    assertThat(Matrices.maxAbsDiff(inv, inv.transpose())).isZero();
    // dpotri and solving against the identity agree.
    DenseMatrix bySolve = Cholesky.factor(c, lambda).solve(DenseMatrix.identity(d));
    assertThat(Matrices.relativeFrobeniusDiff(inv, bySolve)).isLessThan(1e-10);
  }

  @ParameterizedTest(name = "n = {0}")
  @ValueSource(ints = {0, 1, 2, 17, 130})
  void syrkUpperAddsTheUpperTriangleOfAATransposedAndLeavesTheLowerAlone(int n) {
    Random rnd = new Random(n + 5);
    DenseMatrix a = gaussian(n, 7, rnd);
    DenseMatrix c = gaussian(n, n, rnd);
    DenseMatrix before = c.copy();
    Matrices.syrkUpper(-2.0, a, 0.5, c);
    // naive: c[i][j] = 0.5·c[i][j] − 2·Σ_l a[i][l]·a[j][l] for i ≤ j
    DenseMatrix aat = naiveMultiply(a, a.transpose());
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < n; i++) {
        double want = i <= j ? 0.5 * before.get(i, j) - 2.0 * aat.get(i, j) : before.get(i, j);
        assertThat(c.get(i, j)).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-12));
      }
    }
  }

  @Test
  void syrkUpperRejectsAMismatchedOutput() {
    assertThatThrownBy(() -> Matrices.syrkUpper(1.0, DenseMatrix.zeros(3, 2), 0.0, DenseMatrix.zeros(2, 2)))
        .isInstanceOf(ArgumentException.class).hasMessage("Cannot add A·Aᵀ of A [3, 2] into [2, 2]");
  }

  @Test
  void choleskyOfAnIndefiniteMatrixFailsNamingDampingAndPivot() {
    DenseMatrix c = DenseMatrix.of(new double[][] {{1, 0, 0}, {0, -4, 0}, {0, 0, 1}});
    assertThatThrownBy(() -> Cholesky.factor(c, 1.0)).isInstanceOf(StateException.class)
        .hasMessage("Matrix + 1.0·I is not positive definite: Cholesky pivot 2 of 3 is not positive; increase the "
            + "damping");
    assertThatThrownBy(() -> Cholesky.factor(c, -1)).isInstanceOf(ArgumentException.class)
        .hasMessage("Damping is -1.0, expected a finite value ≥ 0");
  }

  @Test
  void badRequestsFailNamingTheValues() {
    DenseMatrix a = DenseMatrix.identity(3);
    assertThatThrownBy(() -> SymmetricEigen.top(a, 4)).isInstanceOf(ArgumentException.class)
        .hasMessage("Requested 4 eigenpairs of a 3×3 matrix");
    assertThatThrownBy(() -> PartialSymmetricEigen.solve(a, 5, PartialSymmetricEigen.Which.LARGEST))
        .isInstanceOf(ArgumentException.class).hasMessage("Requested 5 eigenpairs of an operator of dimension 3");
    DenseMatrix nan = DenseMatrix.of(new double[][] {{1, Double.NaN}, {Double.NaN, 1}});
    assertThatThrownBy(() -> SymmetricEigen.full(nan)).isInstanceOf(ArgumentException.class)
        .hasMessage("Matrix for eigendecomposition holds a non-finite value NaN");
  }
}
