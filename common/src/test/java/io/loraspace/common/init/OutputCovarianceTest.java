package io.loraspace.common.init;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.LinalgTesting;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The captured fraction computed without forming the output covariance equals the one read off the formed matrix. */
class OutputCovarianceTest {
  @ParameterizedTest(name = "{0}×{1}, bias {2}")
  @CsvSource({"40,30,false", "30,40,false", "40,30,true", "25,60,true"})
  void capturedFractionWithoutTheCovarianceEqualsTheFormedOne(int out, int in, boolean withBias) {
    Random rnd = new Random(out * 100L + in);
    DenseMatrix w = LinalgTesting.gaussian(out, in, rnd);
    DenseMatrix x = LinalgTesting.gaussian(in, 3 * in, rnd);
    DenseMatrix s = Matrices.multiply(x, false, x, true);
    double[] u = new double[in];
    double[] bias = null;
    if (withBias) {
      bias = new double[out];
      for (int i = 0; i < out; i++) {
        bias[i] = rnd.nextGaussian();
      }
      for (int j = 0; j < in; j++) {
        u[j] = 5 * rnd.nextGaussian();
      }
    }
    DenseMatrix cov = OutputCovariance.perSample(w, bias, s, u, 123.0, 17);
    DenseMatrix q = Qr.of(LinalgTesting.gaussian(out, 4, rnd)).q();
    double formed = ScLora.captured(q, cov) / Matrices.trace(cov);
    double direct = OutputCovariance.capturedFraction(q, w, bias, s, u, 123.0);
    assertThat(formed).isBetween(0.0, 1.0);
    assertThat(Math.abs(direct - formed)).isLessThan(1e-12 * formed);
  }
}
