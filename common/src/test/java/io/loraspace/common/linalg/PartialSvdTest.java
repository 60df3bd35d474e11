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
}
