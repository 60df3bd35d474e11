package io.loraspace.common.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * {@link PartialSvd} against planted singular triplets: the subspaces match to 1e-8 and the reported bound is never
 * below the true angle; an unresolvable gap or a singular matrix is refused with a message that says why.
 */
class PartialSvdTest {
  private static final double MAX = PartialSvd.DEFAULT_MAX_SIN_THETA;

  private static PartialSvd.Result solve(PlantedSvd p, int r, boolean top) {
    return top ? PartialSvd.largest(LinearOperator.of(p.a), r, PartialSvd.defaultOptions(), MAX)
        : PartialSvd.smallest(p.a, r, PartialSvd.defaultOptions(), MAX);
  }

  @ParameterizedTest(name = "{0} {1}×{2} r={3} top={4}")
  @CsvSource({"DECAYING,300,200,6,true", "DECAYING,200,300,6,true", "FLAT,300,200,6,true", "CLUSTERED,200,300,6,true",
      "DECAYING,300,200,6,false", "DECAYING,200,300,6,false", "FLAT,300,200,6,false", "CLUSTERED,200,200,6,false",
      "CLUSTERED,300,200,6,false", "DECAYING,40,30,1,true", "DECAYING,30,30,30,false"})
  void triplesEqualThePlantedOnesAndTheBoundHolds(PlantedSvd.Spectrum spectrum, int m, int n, int r, boolean top) {
    int k = Math.min(m, n);
    PlantedSvd p = PlantedSvd.of(m, n, spectrum.values(k, r, top), 11L * m + n);
    PartialSvd.Result res = solve(p, r, top);
    int from = top ? 0 : k - r;
    double sinU = Subspaces.maxSinPrincipalAngle(p.u(from, from + r), res.u());
    double sinV = Subspaces.maxSinPrincipalAngle(p.v(from, from + r), res.v());
    assertThat(Math.max(sinU, sinV)).isLessThan(1e-8).isLessThanOrEqualTo(res.sinThetaBound() + 1e-14);
    for (int i = 0; i < r; i++) {
      assertThat(res.values()[i]).isCloseTo(p.sigma[from + i], org.assertj.core.data.Offset.offset(1e-12));
    }
    assertThat(Matrices.maxAbsDiff(Matrices.multiply(res.u(), true, res.u(), false), DenseMatrix.identity(r)))
        .isLessThan(1e-13);
  }

  @ParameterizedTest(name = "top={0}")
  @CsvSource({"true", "false"})
  void aTinyGapAtRIsRefusedNamingTheBound(boolean top) {
    PlantedSvd p = PlantedSvd.of(300, 200, PlantedSvd.Spectrum.TINY_GAP.values(200, 6, top), 5);
    assertThatThrownBy(() -> solve(p, 6, top)).isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial SVD not verified: sin θ bound ")
        .hasMessageEndingWith("; r = 6, " + (top ? "LARGEST" : "SMALLEST") + ")");
  }

  @Test
  void smallestOfARankDeficientMatrixIsRefused() {
    double[] s = PlantedSvd.Spectrum.DECAYING.values(50, 3, false);
    s[49] = 0;
    PlantedSvd p = PlantedSvd.of(60, 50, s, 3);
    assertThatThrownBy(() -> solve(p, 3, false)).isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial SVD: the matrix is numerically rank deficient (QR diagonal min ")
        .hasMessageEndingWith("its smallest singular values need the full SVD");
  }

  @Test
  void rankOutsideTheShapeFailsNamingIt() {
    DenseMatrix a = DenseMatrix.zeros(5, 3);
    assertThatThrownBy(() -> PartialSvd.smallest(a, 4, PartialSvd.defaultOptions(), MAX))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Requested 4 singular triplets of a 5×3 matrix (r must be in [1, 3])");
    assertThatThrownBy(() -> PartialSvd.largest(LinearOperator.of(a), 0, PartialSvd.defaultOptions(), MAX))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Requested 0 singular triplets of a 5×3 matrix (r must be in [1, 3])");
  }

  @Test
  void earlyGiveUpEndsAHopelessRunEarlyAndLeavesAConvergingOneAlone() {
    // The top 40 eigenvalues 1e-4 apart (a packed top like a random-init weight's Gram matrix): the top 8 do not
    // converge to 1e-10 within 12 restarts.
    int d = 400;
    double[] values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = i < 40 ? 1 - 1e-4 * i : 0.9 * (d - i) / d;
    }
    DenseMatrix gram = LinalgTesting.withSpectrum(values, LinalgTesting.orthogonal(d, new java.util.Random(3)));
    long[] columns = new long[1];
    SymmetricOperator counting = SymmetricOperator.of(d, (x, out) -> {
      columns[0] += x.cols();
      SymmetricOperator.of(gram).apply(x, out);
    });
    PartialSymmetricEigen.Options budget = PartialSvd.defaultOptions().withMaxRestarts(12);
    assertThatThrownBy(() -> PartialSymmetricEigen.solve(counting, 8, PartialSymmetricEigen.Which.LARGEST, null,
        budget)).isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial eigensolver did not converge in 12 restarts");
    long whole = columns[0];
    columns[0] = 0;
    assertThatThrownBy(() -> PartialSymmetricEigen.solve(counting, 8, PartialSymmetricEigen.Which.LARGEST, null,
        budget.withEarlyGiveUp())).isInstanceOf(StateException.class)
        .hasMessageMatching("Partial eigensolver did not converge: relative residual \\S+ after [2-3] restarts, "
            + "falling by a factor \\S+ per restart, projects past the 12 allowed .*");
    assertThat(columns[0]).isLessThan(whole / 2);

    // A decaying spectrum converges with the option exactly as without it.
    PlantedSvd p = PlantedSvd.of(300, 300, PlantedSvd.Spectrum.DECAYING.values(300, 8, true), 4);
    SymmetricOperator g = SymmetricOperator.of(Matrices.multiply(p.a, true, p.a, false));
    PartialSymmetricEigen.Result plain = PartialSymmetricEigen.solve(g, 8, PartialSymmetricEigen.Which.LARGEST,
        null, budget);
    PartialSymmetricEigen.Result early = PartialSymmetricEigen.solve(g, 8, PartialSymmetricEigen.Which.LARGEST,
        null, budget.withEarlyGiveUp());
    assertThat(early.values()).containsExactly(plain.values());
    assertThat(early.restarts()).isEqualTo(plain.restarts());
  }
}
