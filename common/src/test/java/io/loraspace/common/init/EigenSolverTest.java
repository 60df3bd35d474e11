package io.loraspace.common.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.LinalgTesting;
import io.loraspace.common.linalg.SymmetricEigen;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * eigensolver=auto never fails on numerics: where Lanczos does not converge within {@link EigenSolver#AUTO_RESTARTS}
 * restarts it answers with dsyevr and says so; eigensolver=partial fails with the solver's message.
 */
class EigenSolverTest {
  /**
   * d = 512, r = 8 (AUTO picks Lanczos): 7 eigenvalues spread over (0.5, 1], then λ_8 … λ_200 = 0.5 − 1e-9·i (the
   * r-th inside a cluster 2e-7 wide, gaps 1e-9 of the spread), then the rest spread down to 0.
   */
  private static DenseMatrix clustered() {
    int d = 512;
    double[] values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = i < 7 ? 1 - 0.07 * i : i < 200 ? 0.5 - 1e-9 * i : 0.4 * (d - i) / (d - 200.0);
    }
    return LinalgTesting.withSpectrum(values, LinalgTesting.orthogonal(d, new Random(7)));
  }

  @Test
  void autoFallsBackToDenseWhenLanczosDoesNotConvergeAndSaysSo() {
    DenseMatrix a = clustered();
    assertThat(EigenSolver.AUTO.resolve(512, 8)).isEqualTo(EigenSolver.PARTIAL);
    EigenSolver.Solved s = EigenSolver.AUTO.solve(a, 8);
    assertThat(s.solver).isEqualTo("partial→full");
    SymmetricEigen.Result ref = SymmetricEigen.top(a, 8);
    for (int i = 0; i < 8; i++) {
      assertThat(s.result.values()[i]).isEqualTo(ref.values()[i]);
    }
  }

  @Test
  void partialFailsWithTheSolversMessage() {
    assertThatThrownBy(() -> EigenSolver.PARTIAL.solve(clustered(), 8)).isInstanceOf(StateException.class)
        .hasMessageStartingWith("Partial eigensolver did not converge in 200 restarts: worst relative residual ")
        .hasMessageEndingWith("(k = 8, d = 512, LARGEST)");
  }

  @Test
  void autoSpendsOnATopSvdAttemptNoMoreRestartsThanTheFullRouteCosts() {
    io.loraspace.common.linalg.PartialSymmetricEigen.Options o = io.loraspace.common.linalg.PartialSvd.defaultOptions();
    // Flop model (EigenSolver.topRestartBudget): 2 + full / restart, full = k²l + (8/3)k³, a restart = 96 columns ×
    // (4kl + 4k·96): 4.47e9 / 6.42e8 at 1536 × 1024, 6.26e8 / 2.20e8 at 1024 × 512.
    assertThat(EigenSolver.topRestartBudget(1536, 1024, 8, o)).isEqualTo(8);
    assertThat(EigenSolver.topRestartBudget(1024, 1536, 8, o)).isEqualTo(8);
    assertThat(EigenSolver.topRestartBudget(1024, 512, 8, o)).isEqualTo(4);
    assertThat(EigenSolver.topRestartBudget(2048, 2048, 8, o)).isEqualTo(EigenSolver.AUTO_RESTARTS);
  }
}
