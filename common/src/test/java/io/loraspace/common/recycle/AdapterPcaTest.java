package io.loraspace.common.recycle;

import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.ThinSvd;
import io.loraspace.common.synth.SyntheticAdapters;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** EigenLoRAx PCA against a dense SVD of the stacked matrix; the relative gap at K. */
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
        double[] sv = svd.singularValues();
        double gap = (sv[5] * sv[5] - sv[6] * sv[6]) / (sv[0] * sv[0]);
        assertThat(b.gap).as(module + " " + factor).isCloseTo(gap, org.assertj.core.data.Offset.offset(1e-9));
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
    AdapterPca.Eigenbasis one = AdapterPca.eigenbasis(totals(List.of(vs.get(0)), -1), true);
    assertThatThrownBy(() -> LeaveOneOutPca.fold(one, vs.get(0), 1, LeaveOneOutPca.Options.defaults(), false))
        .isInstanceOf(ArgumentException.class)
        .hasMessage("Leave-one-out needs at least 2 adapters: without this one 0 vectors remain");
  }
}
