package io.loraspace.common.linalg;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The tiled transposes (transpose, row-major in and out) against the element-by-element definitions. */
class DenseMatrixLayoutTest {
  @ParameterizedTest(name = "{0}×{1}")
  @CsvSource({"1,1", "1,70", "70,1", "31,33", "33,31", "64,64", "100,37", "37,100", "129,65"})
  void tiledTransposesMatchTheDefinitions(int rows, int cols) {
    Random rnd = new Random(rows * 1000L + cols);
    DenseMatrix a = LinalgTesting.gaussian(rows, cols, rnd);
    DenseMatrix t = a.transpose();
    double[] rowMajor = a.toRowMajor();
    assertThat(t.rows()).isEqualTo(cols);
    assertThat(t.cols()).isEqualTo(rows);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        assertThat(t.get(j, i)).isEqualTo(a.get(i, j));
        assertThat(rowMajor[i * cols + j]).isEqualTo(a.get(i, j));
      }
    }
    DenseMatrix back = DenseMatrix.fromRowMajor(rows, cols, rowMajor);
    assertThat(back.data()).containsExactly(a.data());
  }
}
