package io.loraspace.common.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.linalg.DenseMatrix;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StatsKernelsTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 63, 64, 65, 130, 256})
  void tiledSymmetrizationMatchesTheNaiveLoop(int d) {
    Random rnd = new Random(d);
    double[] upper = new double[d * d];
    for (int j = 0; j < d; j++) {
      for (int i = 0; i <= j; i++) {
        upper[i + j * d] = rnd.nextGaussian();
      }
    }
    DenseMatrix naive = DenseMatrix.wrap(d, d, upper.clone());
    naive.symmetrizeFromUpper();
    DenseMatrix tiled = StatsKernels.fullSymmetric(upper, d);
    assertThat(tiled.data()).containsExactly(naive.data());
    assertThat(upper[d - 1]).as("input's lower triangle untouched").isEqualTo(d == 1 ? upper[0] : 0.0);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 17, 256})
  void syrkUpperMatchesTheNaiveLoopOnTheUpperTriangleOnly(int d) {
    Random rnd = new Random(100 + d);
    int k = 37;
    double[] a = StatsTestSupport.rows(rnd, k + 1, d);
    double[] c = new double[d * d];
    double[] naive = new double[d * d];
    StatsKernels.syrkUpper(a, d, d, k, c);
    for (int t = 0; t < k; t++) {
      for (int j = 0; j < d; j++) {
        for (int i = 0; i <= j; i++) {
          naive[i + j * d] += a[d + t * d + i] * a[d + t * d + j];
        }
      }
    }
    StatsTestSupport.assertClose(c, naive, "dsyrk upper d=" + d);
    for (int j = 0; j < d; j++) {
      for (int i = j + 1; i < d; i++) {
        assertThat(c[i + j * d]).isZero();
      }
    }
  }
}
