package io.loraspace.common.correct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.EnergySubspace;
import io.loraspace.common.linalg.Matrices;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** CSULoRA in factored form against the dense formulas of METHODS.md (DenseReference). */
class CsuLoraTest {
  private static final Penalty DEFAULT = Penalty.energyRatio(1e-3);

  /** A module: D with a clustered spectrum (4 × 3.0, 6 × 1.0, flat tail) and an update overlapping its subspaces. */
  private static final class Case {
    final DenseMatrix d;
    final LoraUpdate w;
    final DenseReference.Csu ref;

    Case(int out, int in, int r, long seed) {
      Random rnd = new Random(seed);
      int p = Math.min(Math.min(out, in), 30);
      int head = Math.min(p, 10);
      double[] sigma = p <= 10 ? CorrectTesting.plateaus(new double[] {3.0}, new int[] {p}, 1e-3, rnd)
          : CorrectTesting.plateaus(new double[] {3.0, 1.0, 0.1}, new int[] {4, head - 4, p - head}, 1e-3, rnd);
      DenseMatrix u0 = CorrectTesting.orthonormal(out, p, rnd);
      DenseMatrix v0 = CorrectTesting.orthonormal(in, p, rnd);
      d = CorrectTesting.planted(u0, sigma, v0);
      w = CorrectTesting.update(u0.columns(0, Math.min(p, 6)), v0.columns(0, Math.min(p, 6)), r, 0.7, rnd);
      ref = DenseReference.csuLora(d, w, 0.9, DEFAULT);
    }

    CsuLora.Result solve() {
      return CsuLora.solve(w, ref.u, ref.v, DEFAULT);
    }
  }

  private static DenseMatrix product(DenseMatrix[] lr) {
    return Matrices.multiply(lr[0], lr[1]);
  }

  private static DenseMatrix optimumOf(CsuLora.Result r) {
    DenseMatrix x = product(r.block(0));
    double[] l = r.lambdas();
    for (int b = 1; b < 4; b++) {
      Matrices.axpy(1.0 / (1.0 + l[b - 1]), product(r.block(b)), x);
    }
    return x;
  }

  private static DenseMatrix corrected(CsuLora.Result r, double s) {
    DenseMatrix x = Matrices.multiply(r.b(), r.a());
    Matrices.scale(s, x);
    return x;
  }

  @ParameterizedTest(name = "out={0} in={1} r={2}")
  @CsvSource({"120,80,8", "80,120,4", "1,7,1", "5,3,2", "64,64,16"})
  void blocksSumToTheUpdateAndAreMutuallyOrthogonal(int out, int in, int r) {
    Case c = new Case(out, in, r, 11L * out + in);
    CsuLora.Result res = c.solve();
    DenseMatrix sum = DenseMatrix.zeros(out, in);
    DenseMatrix[] blocks = new DenseMatrix[4];
    double scale = c.ref.delta.frobeniusNorm();
    for (int b = 0; b < 4; b++) {
      blocks[b] = product(res.block(b));
      Matrices.axpy(1.0, blocks[b], sum);
      assertThat(Matrices.relativeFrobeniusDiff(blocks[b], c.ref.blocks[b]) * c.ref.blocks[b].frobeniusNorm())
          .as("block %s vs dense", CsuLora.Result.BLOCKS[b]).isLessThan(1e-12 * scale);
      assertThat(res.energies()[b]).isCloseTo(c.ref.energies[b], within(1e-12 * scale * scale));
    }
    assertThat(Matrices.maxAbsDiff(sum, c.ref.delta)).isLessThan(1e-13 * scale);
    for (int i = 0; i < 4; i++) {
      for (int j = i + 1; j < 4; j++) {
        double dot = 0;
        for (int e = 0; e < blocks[i].data().length; e++) {
          dot += blocks[i].data()[e] * blocks[j].data()[e];
        }
        assertThat(Math.abs(dot)).as("⟨%s, %s⟩", CsuLora.Result.BLOCKS[i], CsuLora.Result.BLOCKS[j])
            .isLessThan(1e-13 * scale * scale);
      }
    }
  }

  @ParameterizedTest(name = "out={0} in={1} r={2}")
  @CsvSource({"120,80,8", "80,120,4", "1,7,1", "5,3,2", "64,64,16"})
  void optimumEqualsTheDenseClosedForm(int out, int in, int r) {
    Case c = new Case(out, in, r, 7L * out + in);
    CsuLora.Result res = c.solve();
    assertThat(res.lambdas()).containsExactly(c.ref.lambdas, within(1e-12));
    assertThat(Matrices.relativeFrobeniusDiff(optimumOf(res), c.ref.optimum)).isLessThan(1e-10);
  }

  @Test
  void optimumMinimisesTheObjective() {
    Case c = new Case(60, 50, 6, 3);
    CsuLora.Result res = c.solve();
    DenseMatrix x = optimumOf(res);
    double best = DenseReference.objective(x, c.ref);
    for (double l : res.lambdas()) {
      assertThat(l).isPositive();
    }
    Random rnd = new Random(5);
    for (int trial = 0; trial < 20; trial++) {
      DenseMatrix e = CorrectTesting.gaussian(60, 50, rnd);
      if (trial < 4) {
        // A perturbation inside one block: the penalised blocks' trade-off is tested on its own.
        DenseReference.Csu unit = DenseReference.csuLora(c.ref.u, c.ref.v, new LoraUpdate(
            DenseMatrix.identity(50), e, 1.0), DEFAULT);
        e = unit.blocks[trial];
      }
      for (double t : new double[] {1e-4, 1e-2, 1}) {
        DenseMatrix y = x.copy();
        Matrices.axpy(t * c.ref.delta.frobeniusNorm() / e.frobeniusNorm(), e, y);
        assertThat(DenseReference.objective(y, c.ref)).as("trial %d, t = %s", trial, t).isGreaterThan(best);
      }
    }
  }

  @Test
  void lambdasAreInvariantToRescalingTheUpdate() {
    Case c = new Case(90, 70, 8, 21);
    CsuLora.Result res = c.solve();
    for (double factor : new double[] {1e-3, 0.37, 7.3, 1e4}) {
      DenseMatrix b = c.w.b().copy();
      Matrices.scale(factor, b);
      CsuLora.Result scaled = CsuLora.solve(new LoraUpdate(c.w.a(), b, c.w.scaling()), c.ref.u, c.ref.v, DEFAULT);
      CsuLora.Result viaScaling = CsuLora.solve(new LoraUpdate(c.w.a(), c.w.b(), c.w.scaling() * factor), c.ref.u,
          c.ref.v, DEFAULT);
      for (int i = 0; i < 3; i++) {
        assertThat(scaled.lambdas()[i]).isCloseTo(res.lambdas()[i], within(1e-12 * res.lambdas()[i]));
        assertThat(viaScaling.lambdas()[i]).isCloseTo(res.lambdas()[i], within(1e-12 * res.lambdas()[i]));
      }
      DenseMatrix expected = corrected(res, c.w.scaling());
      Matrices.scale(factor, expected);
      assertThat(Matrices.relativeFrobeniusDiff(corrected(scaled, c.w.scaling()), expected)).isLessThan(1e-11);
    }
  }

  @ParameterizedTest(name = "out={0} in={1} r={2}")
  @CsvSource({"120,80,8", "80,120,4", "1,7,1", "5,3,2", "64,64,16"})
  void refactorisationEqualsTheTruncatedSvdOfTheOptimum(int out, int in, int r) {
    Case c = new Case(out, in, r, 13L * out + in);
    CsuLora.Result res = c.solve();
    assertThat(res.a().rows()).isEqualTo(r);
    assertThat(res.a().cols()).isEqualTo(in);
    assertThat(res.b().rows()).isEqualTo(out);
    assertThat(res.b().cols()).isEqualTo(r);
    double scale = c.ref.optimum.frobeniusNorm();
    assertThat(Matrices.maxAbsDiff(corrected(res, c.w.scaling()), c.ref.truncated)).isLessThan(1e-12 * scale);
    double trunc = Matrices.subtract(c.ref.optimum, c.ref.truncated).frobeniusNorm();
    assertThat(res.truncationError()).isCloseTo(trunc, within(1e-10 * scale));
    double[] sv = res.singularValues();
    for (int j = 0; j < Math.min(sv.length, 2 * r); j++) {
      assertThat(sv[j]).isCloseTo(c.ref.optimumSingularValues[j], within(1e-12 * scale));
    }
  }

  @Test
  void zeroDisplacementShrinksEverythingAsTheNonAlignedBlock() {
    Random rnd = new Random(8);
    LoraUpdate w = CorrectTesting.update(DenseMatrix.zeros(40, 0), DenseMatrix.zeros(30, 0), 4, 0, rnd);
    Displacement d = new Displacement("m", DenseMatrix.zeros(40, 30));
    CsuLora method = new CsuLora(new EnergySubspace.Options(), Penalty.energyRatio(0.01));
    ModuleCorrection mc = method.correct(d, w);
    assertThat(mc.figure("k")).isZero();
    assertThat(mc.figure("lambdaNN")).isCloseTo(100.0, within(1e-9));
    DenseMatrix expected = w.dense();
    Matrices.scale(1.0 / 101.0, expected);
    DenseMatrix got = Matrices.multiply(mc.b(), mc.a());
    Matrices.scale(w.scaling(), got);
    assertThat(Matrices.relativeFrobeniusDiff(got, expected)).isLessThan(1e-12);
  }

  @Test
  void zeroUpdateStaysZeroWithUndefinedCosines() {
    Case c = new Case(30, 20, 4, 9);
    LoraUpdate zero = new LoraUpdate(c.w.a(), DenseMatrix.zeros(30, 4), 2.0);
    CsuLora.Result res = CsuLora.solve(zero, c.ref.u, c.ref.v, DEFAULT);
    assertThat(res.lambdas()).containsExactly(0, 0, 0);
    assertThat(Matrices.multiply(res.b(), res.a()).frobeniusNorm()).isZero();
    assertThat(res.cosDeltaOptimum()).isNaN();
  }

  @Test
  void fixedZeroPenaltyKeepsTheUpdate() {
    Case c = new Case(50, 40, 5, 17);
    CsuLora.Result res = CsuLora.solve(c.w, c.ref.u, c.ref.v, Penalty.fixed(0));
    assertThat(Matrices.relativeFrobeniusDiff(corrected(res, c.w.scaling()), c.ref.delta)).isLessThan(1e-12);
    assertThat(res.cosDeltaOptimum()).isCloseTo(1.0, within(1e-12));
    assertThat(res.truncationError()).isLessThan(1e-12 * c.ref.delta.frobeniusNorm());
  }

  @Test
  void correctionThroughTheSharedSubspaceEqualsTheDenseReference() {
    Case c = new Case(300, 200, 8, 31);
    EnergySubspace.Options o = new EnergySubspace.Options();
    o.tolerance = 1e-13;
    o.maxPowerIterations = 60;
    CsuLora method = new CsuLora(o, DEFAULT);
    Displacement d = new Displacement("m", c.d);
    ModuleCorrection first = method.correct(d, c.w);
    method.correct(d, CorrectTesting.update(c.ref.u, c.ref.v, 4, 0.3, new Random(2)));
    assertThat(d.subspacesComputed()).isEqualTo(1);
    assertThat(first.figure("k")).isEqualTo(c.ref.k);
    DenseMatrix got = Matrices.multiply(first.b(), first.a());
    Matrices.scale(c.w.scaling(), got);
    assertThat(Matrices.relativeFrobeniusDiff(got, c.ref.truncated)).isLessThan(1e-9);
  }

  @Test
  void penaltiesRejectBadParametersNamingThem() {
    assertThatThrownBy(() -> Penalty.energyRatio(0)).isInstanceOf(ArgumentException.class)
        .hasMessage("CSULoRA ε is 0.0, expected a finite value > 0");
    assertThatThrownBy(() -> Penalty.energyRatio(-1e-3)).isInstanceOf(ArgumentException.class)
        .hasMessage("CSULoRA ε is -0.001, expected a finite value > 0");
    assertThatThrownBy(() -> Penalty.fixed(-1)).isInstanceOf(ArgumentException.class)
        .hasMessage("CSULoRA λ is -1.0, expected a finite value ≥ 0");
  }
}
