package io.loraspace.common.recycle;

import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.synth.SyntheticAdapters;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/**
 * Leave-one-out folds against exact recomputation (a dense fit of the other adapters' totals) on every fold, on
 * collections whose gap at K is wide, tiny (K inside a noise bulk), zero (exactly repeated eigenvalues) or at the
 * fold's rank (K = vectors − 1), and with Lanczos made to fail.
 */
class LeaveOneOutPcaTest {
  private static SyntheticAdapters.Spec spec(int adapters, double taskScale) {
    SyntheticAdapters.Spec s = new SyntheticAdapters.Spec();
    s.adapters = adapters;
    s.layers = 1;
    s.hidden = 64;
    s.kvDim = 12;
    s.r = 8;
    s.rMin = 4;
    s.varyAlpha = true;
    s.sharedRank = 5;
    s.noise = 0.05;
    s.taskScale = taskScale;
    s.seed = 3;
    return s;
  }

  /** Runs every fold and checks it against recomputation; returns the solvers seen. */
  private static Set<LeaveOneOutPca.Solver> checkEveryFold(List<DenseMatrix> vs, int k, boolean center,
      LeaveOneOutPca.Options options) {
    Set<LeaveOneOutPca.Solver> seen = EnumSet.noneOf(LeaveOneOutPca.Solver.class);
    AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(AdapterPcaTest.totals(vs, -1), center);
    for (int i = 0; i < vs.size(); i++) {
      LeaveOneOutPca.Fold fold = LeaveOneOutPca.fold(e, vs.get(i), k, options, true);
      seen.add(fold.solver);
      AdapterPca.Totals rest = AdapterPcaTest.totals(vs, i);
      AdapterPca.Options o = new AdapterPca.Options();
      o.components = fold.components;
      o.center = center;
      AdapterPca.Basis exact = AdapterPca.fit(rest, o, "fold " + i);
      double want = exact.relativeError(vs.get(i));
      assertThat(Math.abs(fold.heldOutError - want)).as("fold %d (%s, gap %s)", i, fold.solver, fold.gap)
          .isLessThanOrEqualTo(1e-8 * want);
      double[] spectrum = SymmetricEigen.full(AdapterPca.scatter(rest, center)).descending().values();
      int kf = fold.components;
      double gap = kf < spectrum.length ? (spectrum[kf - 1] - Math.max(0, spectrum[kf])) / spectrum[0] : Double.NaN;
      if (Double.isNaN(gap)) {
        assertThat(fold.gap).isNaN();
      } else {
        // Lanczos's λ_{K+1} is a Ritz value accurate to its (unconverged) residual; dense is exact.
        double tol = fold.solver == LeaveOneOutPca.Solver.LANCZOS ? 1e-6 : 1e-9;
        assertThat(fold.gap).as("fold %d gap (%s)", i, fold.solver).isCloseTo(gap, Offset.offset(tol));
      }
    }
    return seen;
  }

  @Test
  void wellSeparatedFoldsStayOnLanczosAndEqualRecomputation() {
    SyntheticAdapters.Spec s = spec(16, 0.2);
    for (boolean center : new boolean[] {true, false}) {
      for (char factor : new char[] {'A', 'B'}) {
        List<DenseMatrix> vs = AdapterPcaTest.vectors(s, s.modules().get(0), factor);
        assertThat(checkEveryFold(vs, 5, center, LeaveOneOutPca.Options.defaults()))
            .as("center %s, %s", center, factor).containsExactly(LeaveOneOutPca.Solver.LANCZOS);
      }
    }
  }

  @Test
  void kInsideTheNoiseBulkFallsBackToDenseAndEqualsRecomputation() {
    // No task directions: past the 5 planted ones the spectrum is isotropic noise with relative gaps ~1e-5.
    SyntheticAdapters.Spec s = spec(24, 0);
    List<DenseMatrix> vs = AdapterPcaTest.vectors(s, s.modules().get(0), 'A');
    Set<LeaveOneOutPca.Solver> seen = checkEveryFold(vs, 10, true, LeaveOneOutPca.Options.defaults());
    assertThat(seen).contains(LeaveOneOutPca.Solver.DENSE_SMALL_GAP);
  }

  @Test
  void lanczosThatDoesNotConvergeFallsBackToDense() {
    SyntheticAdapters.Spec s = spec(12, 0);
    List<DenseMatrix> vs = AdapterPcaTest.vectors(s, s.modules().get(0), 'A');
    // One restart to an unreachable tolerance: no fold converges.
    LeaveOneOutPca.Options oneRestart = new LeaveOneOutPca.Options(1e-300, 1, 1e-7);
    assertThat(checkEveryFold(vs, 8, true, oneRestart)).containsExactly(LeaveOneOutPca.Solver.DENSE_NOT_CONVERGED);
  }

  /**
   * Exactly repeated eigenvalues at K: adapter i holds ±2·q_{i mod 3} and ±u_i (orthonormal directions, rotated
   * at random), so the mean is 0, the scatter has eigenvalues 32 (×3) and 2 (×12) and K = 5 cuts the 12-fold
   * cluster, in the full data and in every fold. The held-out error is still determined: u_i is orthogonal to the
   * fold's whole range, so it is 1/√5 in every fold whichever cluster vectors the fold keeps.
   */
  @Test
  void exactlyRepeatedEigenvaluesAtK() {
    List<DenseMatrix> vs = repeatedCollection(40, 12, new Random(5));
    for (boolean center : new boolean[] {true, false}) {
      checkEveryFold(vs, 5, center, LeaveOneOutPca.Options.defaults());
      AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(AdapterPcaTest.totals(vs, -1), center);
      for (int i = 0; i < vs.size(); i++) {
        LeaveOneOutPca.Fold f = LeaveOneOutPca.fold(e, vs.get(i), 5, LeaveOneOutPca.Options.defaults(), false);
        assertThat(f.heldOutError).as("fold %d", i).isCloseTo(1 / Math.sqrt(5), Offset.offset(1e-12));
        assertThat(f.gap).as("fold %d", i).isLessThan(1e-12);
        assertThat(f.solver).isNotEqualTo(LeaveOneOutPca.Solver.LANCZOS);
      }
    }
  }

  static List<DenseMatrix> repeatedCollection(int d, int adapters, Random rnd) {
    DenseMatrix g = DenseMatrix.zeros(d, 3 + adapters);
    for (int i = 0; i < g.data().length; i++) {
      g.data()[i] = rnd.nextGaussian();
    }
    DenseMatrix q = Qr.of(g).q();
    List<DenseMatrix> out = new ArrayList<>();
    for (int i = 0; i < adapters; i++) {
      DenseMatrix v = DenseMatrix.zeros(d, 4);
      for (int r = 0; r < d; r++) {
        double shared = 2 * q.get(r, i % 3);
        double own = q.get(r, 3 + i);
        v.set(r, 0, shared);
        v.set(r, 1, -shared);
        v.set(r, 2, own);
        v.set(r, 3, -own);
      }
      out.add(v);
    }
    return out;
  }

  @Test
  void kEqualToTheFoldsVectorsMinusOneAndBeyond() {
    // Ranks 2, 3, 4 (9 vectors): without the rank-4 adapter a centred fold has 5 vectors and 4 components.
    Random rnd = new Random(11);
    List<DenseMatrix> vs = new ArrayList<>();
    for (int r = 2; r <= 4; r++) {
      DenseMatrix v = DenseMatrix.zeros(24, r);
      for (int i = 0; i < v.data().length; i++) {
        v.data()[i] = rnd.nextGaussian();
      }
      vs.add(v);
    }
    checkEveryFold(vs, 4, true, LeaveOneOutPca.Options.defaults());
    AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(AdapterPcaTest.totals(vs, -1), true);
    LeaveOneOutPca.Fold atRank = LeaveOneOutPca.fold(e, vs.get(2), 4, LeaveOneOutPca.Options.defaults(), false);
    assertThat(atRank.components).isEqualTo(4);
    assertThat(atRank.gap).isGreaterThan(0);
    // K = 5 asks for more than that fold has: it keeps its 4, the other folds keep 5.
    checkEveryFold(vs, 5, true, LeaveOneOutPca.Options.defaults());
    LeaveOneOutPca.Fold capped = LeaveOneOutPca.fold(e, vs.get(2), 5, LeaveOneOutPca.Options.defaults(), false);
    assertThat(capped.components).isEqualTo(4);
    assertThat(LeaveOneOutPca.fold(e, vs.get(0), 5, LeaveOneOutPca.Options.defaults(), false).components)
        .isEqualTo(5);
  }

  @Test
  void foldBasisMatchesRecomputationWhenTheGapIsWide() {
    SyntheticAdapters.Spec s = spec(12, 0.2);
    List<DenseMatrix> vs = AdapterPcaTest.vectors(s, s.modules().get(1), 'B');
    AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(AdapterPcaTest.totals(vs, -1), true);
    AdapterPca.Options o = new AdapterPca.Options();
    o.components = 5;
    for (int i = 0; i < vs.size(); i++) {
      LeaveOneOutPca.Fold f = LeaveOneOutPca.fold(e, vs.get(i), 5, LeaveOneOutPca.Options.defaults(), true);
      AdapterPca.Basis exact = AdapterPca.fit(AdapterPcaTest.totals(vs, i), o, "m");
      assertThat(maxSinPrincipalAngle(f.basis, exact.components)).as("fold " + i).isLessThan(1e-6);
      for (int k = 0; k < 5; k++) {
        assertThat(f.eigenvalues[k]).isCloseTo(exact.eigenvalues[k], Offset.offset(1e-9 * exact.eigenvalues[0]));
      }
    }
  }

  @Test
  void badOptionsAreNamed() {
    assertThatThrownBy(() -> new LeaveOneOutPca.Options(0, 1, 1e-7)).isInstanceOf(ArgumentException.class)
        .hasMessage("Leave-one-out solver options: tolerance 0.0 (> 0), maxRestarts 1 (≥ 1), maxSinBound 1.0E-7 (> 0)");
  }
}
