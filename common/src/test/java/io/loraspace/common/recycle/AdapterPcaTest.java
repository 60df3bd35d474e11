package io.loraspace.common.recycle;

import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.ThinSvd;
import io.loraspace.common.synth.SyntheticAdapters;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EigenLoRAx PCA against a dense SVD of the stacked matrix, leave-one-out downdates against recomputation. */
class AdapterPcaTest {
  private static SyntheticAdapters.Spec spec(int adapters) {
    SyntheticAdapters.Spec s = new SyntheticAdapters.Spec();
    s.adapters = adapters;
    s.layers = 1;
    s.hidden = 40;
    s.kvDim = 12;
    s.r = 4;
    s.rMin = 2;
    s.varyAlpha = true;
    s.sharedRank = 6;
    s.noise = 0.05;
    s.taskScale = 0.2;
    s.seed = 3;
    return s;
  }

  /** The vectors of one (module, factor) of each adapter: A rows or s·B columns, as d × r_i blocks. */
  static List<DenseMatrix> vectors(SyntheticAdapters.Spec s, String module, char factor) {
    List<DenseMatrix> out = new ArrayList<>();
    for (int i = 0; i < s.adapters; i++) {
      LoraAdapter a = SyntheticAdapters.adapter(s, i);
      LoraAdapter.Factors f = a.factors(module);
      if (factor == 'A') {
        out.add(f.a().transpose());
      } else {
        DenseMatrix b = f.b().copy();
        Matrices.scale(a.config().scaling(module), b);
        out.add(b);
      }
    }
    return out;
  }

  static AdapterPca.Totals totals(List<DenseMatrix> vs, int skip) {
    AdapterPca.Totals t = new AdapterPca.Totals(vs.get(0).rows());
    for (int i = 0; i < vs.size(); i++) {
      if (i != skip) {
        t.add(vs.get(i));
      }
    }
    return t;
  }

  /** The stacked, centred matrix (d × n) built column by column. */
  static DenseMatrix stackedCentred(List<DenseMatrix> vs) {
    int d = vs.get(0).rows();
    int n = vs.stream().mapToInt(DenseMatrix::cols).sum();
    DenseMatrix m = DenseMatrix.zeros(d, n);
    double[] mean = new double[d];
    int c = 0;
    for (DenseMatrix v : vs) {
      for (int j = 0; j < v.cols(); j++, c++) {
        for (int i = 0; i < d; i++) {
          m.set(i, c, v.get(i, j));
          mean[i] += v.get(i, j) / n;
        }
      }
    }
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < d; i++) {
        m.add(i, j, -mean[i]);
      }
    }
    return m;
  }

  @Test
  void componentsEqualTheSvdOfTheStackedCentredMatrix() {
    SyntheticAdapters.Spec s = spec(25);
    for (String module : s.modules()) {
      for (char factor : new char[] {'A', 'B'}) {
        List<DenseMatrix> vs = vectors(s, module, factor);
        AdapterPca.Options o = new AdapterPca.Options();
        o.components = 6;
        AdapterPca.Basis b = AdapterPca.fit(totals(vs, -1), o, module);
        ThinSvd svd = ThinSvd.of(stackedCentred(vs));
        DenseMatrix ref = svd.u().columns(0, 6);
        assertThat(maxSinPrincipalAngle(b.components, ref)).as(module + " " + factor).isLessThan(1e-9);
        for (int k = 0; k < 6; k++) {
          double sv = svd.singularValues()[k];
          assertThat(b.eigenvalues[k]).isCloseTo(sv * sv, org.assertj.core.data.Offset.offset(1e-9 * sv * sv));
        }
      }
    }
  }

  @Test
  void fullRankReconstructsExactlyAndThresholdRecoversThePlantedDimension() {
    SyntheticAdapters.Spec s = spec(30);
    String module = s.modules().get(0);
    List<DenseMatrix> vs = vectors(s, module, 'A');
    AdapterPca.Options full = new AdapterPca.Options();
    full.components = 40; // = d
    AdapterPca.Basis b = AdapterPca.fit(totals(vs, -1), full, module);
    for (DenseMatrix v : vs) {
      assertThat(b.relativeError(v)).isLessThan(1e-12);
      assertThat(Matrices.relativeFrobeniusDiff(b.reconstruct(v), v)).isLessThan(1e-12);
    }
    // Planted: 6 unit-variance directions, task part 0.2² and noise 0.05 per vector: 6 / 6.09 ≥ 0.9 > 5 / 6.09.
    AdapterPca.Options th = new AdapterPca.Options();
    th.threshold = 0.9;
    s.taskScale = 0;
    List<DenseMatrix> clean = vectors(s, module, 'A');
    AdapterPca.Basis t = AdapterPca.fit(totals(clean, -1), th, module);
    assertThat(t.principal).isEqualTo(6);
    assertThat(maxSinPrincipalAngle(t.components, SyntheticAdapters.planted(s, module, 'A'))).isLessThan(0.1);
    double cum = 0;
    for (double r : t.ratios()) {
      cum += r;
    }
    assertThat(cum).isGreaterThanOrEqualTo(0.9);
  }

  @Test
  void leaveOneOutByDowndateEqualsRecomputationOnEveryFold() {
    SyntheticAdapters.Spec s = spec(12);
    for (char factor : new char[] {'A', 'B'}) {
      String module = s.modules().get(1);
      List<DenseMatrix> vs = vectors(s, module, factor);
      AdapterPca.Options o = new AdapterPca.Options();
      o.components = 5;
      AdapterPca.Totals all = totals(vs, -1);
      AdapterPca.Basis full = AdapterPca.fit(all, o, module);
      for (int i = 0; i < vs.size(); i++) {
        AdapterPca.Basis exact = AdapterPca.fit(totals(vs, i), o, module);
        AdapterPca.Basis fold = AdapterPca.fold(all, vs.get(i), 5, true, full.components,
            PartialSymmetricEigen.Options.defaults());
        assertThat(maxSinPrincipalAngle(fold.components, exact.components)).as("fold " + i).isLessThan(1e-6);
        double e1 = exact.relativeError(vs.get(i));
        double e2 = fold.relativeError(vs.get(i));
        assertThat(Math.abs(e1 - e2)).as("fold " + i).isLessThanOrEqualTo(1e-8 * e1);
        assertThat(fold.total).isCloseTo(exact.total, org.assertj.core.data.Offset.offset(1e-9 * exact.total));
        for (int k = 0; k < fold.mean.length; k++) {
          assertThat(fold.mean[k]).isCloseTo(exact.mean[k], org.assertj.core.data.Offset.offset(1e-12));
        }
      }
    }
  }

  @Test
  void leaveOneOutInTheEigenbasisEqualsRecomputationOnEveryFold() {
    SyntheticAdapters.Spec s = spec(12);
    for (boolean center : new boolean[] {true, false}) {
      for (char factor : new char[] {'A', 'B'}) {
        String module = s.modules().get(0);
        List<DenseMatrix> vs = vectors(s, module, factor);
        AdapterPca.Options o = new AdapterPca.Options();
        o.components = 5;
        o.center = center;
        AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(totals(vs, -1), center);
        for (int i = 0; i < vs.size(); i++) {
          AdapterPca.Basis exact = AdapterPca.fit(totals(vs, i), o, module);
          AdapterPca.Fold fold = AdapterPca.foldInEigenbasis(e, vs.get(i), 5, AdapterPca.FOLD_SOLVER, true);
          assertThat(maxSinPrincipalAngle(fold.components, exact.components)).as("fold " + i).isLessThan(1e-6);
          double e1 = exact.relativeError(vs.get(i));
          assertThat(Math.abs(e1 - fold.heldOutError)).as("fold " + i + " center " + center)
              .isLessThanOrEqualTo(1e-8 * e1);
          for (int k = 0; k < 5; k++) {
            assertThat(fold.eigenvalues[k]).isCloseTo(exact.eigenvalues[k],
                org.assertj.core.data.Offset.offset(1e-9 * exact.eigenvalues[0]));
          }
        }
      }
    }
  }

  @Test
  void pseudoComponentsAreOrthonormalAndUncentredModeSubtractsNothing() {
    SyntheticAdapters.Spec s = spec(10);
    List<DenseMatrix> vs = vectors(s, s.modules().get(2), 'B');
    AdapterPca.Options o = new AdapterPca.Options();
    o.components = 3;
    o.pseudo = 4;
    o.center = false;
    AdapterPca.Basis b = AdapterPca.fit(totals(vs, -1), o, "m");
    assertThat(b.size()).isEqualTo(7);
    DenseMatrix g = Matrices.multiply(b.components, true, b.components, false);
    assertThat(Matrices.maxAbsDiff(g, DenseMatrix.identity(7))).isLessThan(1e-12);
    assertThat(b.mean).containsOnly(0.0);
  }

  @Test
  void badInputIsNamed() {
    SyntheticAdapters.Spec s = spec(2);
    List<DenseMatrix> vs = vectors(s, s.modules().get(0), 'A');
    AdapterPca.Options o = new AdapterPca.Options();
    o.components = 9;
    // 2 adapters with r in [2, 4]: at most 8 vectors, 7 components when centred.
    assertThatThrownBy(() -> AdapterPca.fit(totals(vs, -1), o, "model.layers.0.self_attn.q_proj A"))
        .isInstanceOf(ArgumentException.class)
        .hasMessageContaining("model.layers.0.self_attn.q_proj A: K = 9 components requested but only");
    assertThatThrownBy(() -> AdapterPca.fit(new AdapterPca.Totals(5), new AdapterPca.Options(), "m"))
        .hasMessageContaining("empty collection");
    AdapterPca.Totals one = totals(List.of(vs.get(0)), -1);
    assertThatThrownBy(() -> AdapterPca.fold(one, vs.get(0), 1, true, null, PartialSymmetricEigen.Options.defaults()))
        .hasMessageContaining("Leave-one-out needs at least 2 adapters");
  }
}
