package io.loraspace.common.init;

import static io.loraspace.common.linalg.LinalgTesting.gaussian;
import static io.loraspace.common.linalg.LinalgTesting.maxSinPrincipalAngle;
import static io.loraspace.common.linalg.LinalgTesting.naiveMultiply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.SymmetricEigen;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * LoRA-DA and LoRA-One against references built from the paper's definitions on a softmax-regression model whose
 * per-token gradients are computed analytically here (no capture code involved).
 */
class LoraDaTest {
  /** A softmax-regression data set: tokens grouped in samples, per-token gradients of the CE loss w.r.t. the logits. */
  static final class Softmax {
    final int in;
    final int out;
    final DenseMatrix w;
    final double[][] x;
    final int[] label;
    final int[] sampleOf;
    final int samples;

    Softmax(int in, int out, int samples, long seed) {
      Random rnd = new Random(seed);
      this.in = in;
      this.out = out;
      this.samples = samples;
      this.w = gaussian(out, in, rnd);
      Matrices.scale(0.5, w);
      java.util.List<double[]> xs = new java.util.ArrayList<>();
      java.util.List<Integer> ls = new java.util.ArrayList<>();
      java.util.List<Integer> ss = new java.util.ArrayList<>();
      DenseMatrix mix = gaussian(in, in, rnd); // correlated, anisotropic inputs
      for (int s = 0; s < samples; s++) {
        int tokens = 1 + rnd.nextInt(5);
        for (int t = 0; t < tokens; t++) {
          double[] z = new double[in];
          for (int j = 0; j < in; j++) {
            z[j] = rnd.nextGaussian() * (1.0 + j);
          }
          double[] v = new double[in];
          for (int i = 0; i < in; i++) {
            for (int j = 0; j < in; j++) {
              v[i] += mix.get(i, j) * z[j] / in;
            }
          }
          xs.add(v);
          ls.add(rnd.nextInt(out));
          ss.add(s);
        }
      }
      x = xs.toArray(new double[0][]);
      label = ls.stream().mapToInt(Integer::intValue).toArray();
      sampleOf = ss.stream().mapToInt(Integer::intValue).toArray();
    }

    /** softmax(m x_t), computed stably. */
    double[] probabilities(DenseMatrix m, int t) {
      double[] p = new double[out];
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < out; i++) {
        for (int j = 0; j < in; j++) {
          p[i] += m.get(i, j) * x[t][j];
        }
        max = Math.max(max, p[i]);
      }
      double sum = 0;
      for (int i = 0; i < out; i++) {
        p[i] = Math.exp(p[i] - max);
        sum += p[i];
      }
      for (int i = 0; i < out; i++) {
        p[i] /= sum;
      }
      return p;
    }

    /** ∂ℓ_t/∂logits = softmax(W x_t) − e_label, for weight {@code m}. */
    double[] grad(DenseMatrix m, int t) {
      double[] g = probabilities(m, t);
      g[label[t]] -= 1;
      return g;
    }

    /** Mean per-sample loss Σ_t −log p(label) / samples. */
    double loss(DenseMatrix m) {
      double total = 0;
      for (int t = 0; t < x.length; t++) {
        total -= Math.log(probabilities(m, t)[label[t]]);
      }
      return total / samples;
    }

    /** The store's sums, built with matrix products (a different route from the reference's per-token loops). */
    LoraDa.Statistics statistics() {
      int n = x.length;
      DenseMatrix xm = DenseMatrix.zeros(in, n);
      DenseMatrix gm = DenseMatrix.zeros(out, n);
      double[] sq = new double[out];
      for (int t = 0; t < n; t++) {
        double[] g = grad(w, t);
        for (int j = 0; j < in; j++) {
          xm.set(j, t, x[t][j]);
        }
        for (int i = 0; i < out; i++) {
          gm.set(i, t, g[i]);
          sq[i] += g[i] * g[i];
        }
      }
      DenseMatrix gram = Matrices.multiply(xm, false, xm, true);
      DenseMatrix cross = Matrices.multiply(gm, false, xm, true);
      return new LoraDa.Statistics(gram, n, cross, sq, n, samples);
    }
  }

  /** Naive Gauss–Jordan inverse with partial pivoting (independent of LAPACK). */
  static double[][] inverse(double[][] a) {
    int n = a.length;
    double[][] m = new double[n][2 * n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, m[i], 0, n);
      m[i][n + i] = 1;
    }
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int i = c + 1; i < n; i++) {
        if (Math.abs(m[i][c]) > Math.abs(m[p][c])) {
          p = i;
        }
      }
      double[] tmp = m[c];
      m[c] = m[p];
      m[p] = tmp;
      double piv = m[c][c];
      for (int j = 0; j < 2 * n; j++) {
        m[c][j] /= piv;
      }
      for (int i = 0; i < n; i++) {
        if (i != c && m[i][c] != 0) {
          double f = m[i][c];
          for (int j = 0; j < 2 * n; j++) {
            m[i][j] -= f * m[c][j];
          }
        }
      }
    }
    double[][] inv = new double[n][n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(m[i], n, inv[i], 0, n);
    }
    return inv;
  }

  private static double relMax(DenseMatrix a, DenseMatrix b) {
    double scale = 0;
    for (double v : b.data()) {
      scale = Math.max(scale, Math.abs(v));
    }
    return Matrices.maxAbsDiff(a, b) / scale;
  }

  @Test
  void kfacQuantitiesAndOmegaEqualTheDenseFisherDefinitions() {
    Softmax m = new Softmax(6, 4, 40, 11);
    int in = m.in;
    int out = m.out;
    int n = m.x.length;
    LoraDa.Options o = new LoraDa.Options();
    o.n = 1000;
    o.zDamping = 1e-3;
    o.yDamping = 1e-2;
    LoraDa.Quantities q = LoraDa.quantities("head", m.statistics(), o);

    // Reference, per-token loops: Z_f, y (with the same relative damping), Ḡ.
    double[][] z = new double[in][in];
    double[] y = new double[out];
    double[][] gbar = new double[out][in];
    for (int t = 0; t < n; t++) {
      double[] g = m.grad(m.w, t);
      for (int a = 0; a < in; a++) {
        for (int b = 0; b < in; b++) {
          z[a][b] += m.x[t][a] * m.x[t][b] / n;
        }
      }
      for (int i = 0; i < out; i++) {
        y[i] += g[i] * g[i] / n;
        for (int a = 0; a < in; a++) {
          gbar[i][a] += g[i] * m.x[t][a] / m.samples;
        }
      }
    }
    double trace = 0;
    double meanY = 0;
    for (int a = 0; a < in; a++) {
      trace += z[a][a];
    }
    for (int i = 0; i < out; i++) {
      meanY += y[i] / out;
    }
    for (int a = 0; a < in; a++) {
      z[a][a] += 1e-3 * trace / in;
    }
    for (int i = 0; i < out; i++) {
      y[i] += 1e-2 * meanY;
    }
    // The K-FAC Fisher of vec(W_p) (column-wise vec, W_p = Wᵀ in×out): J = diag(y) ⊗ Z_f, dense (in·out)².
    int dim = in * out;
    double[][] j = new double[dim][dim];
    for (int i = 0; i < out; i++) {
      for (int a = 0; a < in; a++) {
        for (int b = 0; b < in; b++) {
          j[i * in + a][i * in + b] = y[i] * z[a][b];
        }
      }
    }
    double[][] jinv = inverse(j);
    // Eq. 21: Δ_(:,i) = −J⁻¹_[i] Ḡᵀ_(:,i); Eq. 19: Ω = Σ_i J⁻¹_[i] / N − Σ_i Δ_(:,i) Δ_(:,i)ᵀ.
    DenseMatrix delta = DenseMatrix.zeros(in, out);
    DenseMatrix omega = DenseMatrix.zeros(in, in);
    for (int i = 0; i < out; i++) {
      for (int a = 0; a < in; a++) {
        double s = 0;
        for (int b = 0; b < in; b++) {
          s += jinv[i * in + a][i * in + b] * gbar[i][b];
          omega.add(a, b, jinv[i * in + a][i * in + b] / o.n);
        }
        delta.set(a, i, -s);
      }
    }
    for (int i = 0; i < out; i++) {
      for (int a = 0; a < in; a++) {
        for (int b = 0; b < in; b++) {
          omega.add(a, b, -delta.get(a, i) * delta.get(b, i));
        }
      }
    }
    assertThat(relMax(q.delta, delta)).isLessThan(1e-10);
    assertThat(relMax(q.omega, omega)).isLessThan(1e-10);
    for (int i = 0; i < out; i++) {
      assertThat(q.y[i]).isCloseTo(y[i], org.assertj.core.data.Offset.offset(1e-12 * y[i]));
    }

    // A_p: bottom-r eigenvectors of the reference Ω (full LAPACK solve); s·B·A = (A_p B_p)ᵀ with B_p = A_pᵀ Δ.
    int r = 2;
    double scaling = 16.0 / r;
    LoraDa.Result res = LoraDa.init("head", m.statistics(), o, r, scaling, EigenSolver.FULL);
    SymmetricEigen.Result ref = SymmetricEigen.full(omega);
    DenseMatrix ap = ref.vectors().columns(0, r);
    assertThat(maxSinPrincipalAngle(res.factors.a().transpose(), ap)).isLessThan(1e-8);
    for (int k = 0; k < r; k++) {
      assertThat(res.eigenvalues[k]).isCloseTo(ref.values()[k],
          org.assertj.core.data.Offset.offset(1e-10 * Math.abs(ref.values()[0])));
    }
    DenseMatrix bp = naiveMultiply(ap.transpose(), delta);
    DenseMatrix update = naiveMultiply(ap, bp).transpose();
    assertThat(relMax(res.factors.delta(), update)).isLessThan(1e-8);
    assertThat(res.factors.needsResidual()).isFalse();
    // A has orthonormal rows.
    DenseMatrix aat = naiveMultiply(res.factors.a(), res.factors.a().transpose());
    assertThat(Matrices.maxAbsDiff(aat, DenseMatrix.identity(r))).isLessThan(1e-12);
  }

  @Test
  void withoutVarianceAndWithTheRawGradientAIsTheTopLeftSingularSubspaceOfGradientTransposed() {
    Softmax m = new Softmax(9, 5, 30, 12);
    LoraDa.Options o = new LoraDa.Options();
    o.n = 50;
    o.varianceWeight = 0;
    o.displacement = LoraDa.Displacement.GRADIENT;
    int r = 3;
    LoraDa.Result res = LoraDa.init("head", m.statistics(), o, r, 2.0, EigenSolver.FULL);
    DenseMatrix gt = m.statistics().meanGradient().transpose(); // in×out
    // Top-r left singular vectors of Ḡᵀ = top-r eigenvectors of Ḡᵀ Ḡ (reference: full eigendecomposition).
    DenseMatrix ggT = naiveMultiply(gt, gt.transpose());
    DenseMatrix top = SymmetricEigen.full(ggT).descending().vectors().columns(0, r);
    assertThat(maxSinPrincipalAngle(res.factors.a().transpose(), top)).isLessThan(1e-8);
    // LoRA-One spans the same row space (Remark 3).
    InitFactors one = LoraOne.init("head", m.statistics().meanGradient(), r, 2.0, 1.0);
    assertThat(maxSinPrincipalAngle(Qr.of(one.a().transpose()).q(), top)).isLessThan(1e-8);
    assertThat(o.describe()).contains("no variance term").contains("raw-gradient");
  }

  @Test
  void partialBottomSolveEqualsTheFullSolve() {
    // A realistic Ω: N large, so the bias term's negative eigenvalues are the separated bottom of the spectrum.
    Random rnd = new Random(13);
    int in = 640;
    int out = 48;
    int tokens = 4000;
    DenseMatrix xm = gaussian(in, tokens, rnd);
    DenseMatrix gm = gaussian(out, tokens, rnd);
    DenseMatrix plant = gaussian(out, in, rnd);
    DenseMatrix cross = Matrices.multiply(gm, false, xm, true);
    Matrices.axpy(200.0, plant, cross);
    double[] sq = new double[out];
    for (int i = 0; i < out; i++) {
      for (int t = 0; t < tokens; t++) {
        sq[i] += gm.get(i, t) * gm.get(i, t);
      }
    }
    LoraDa.Statistics st = new LoraDa.Statistics(Matrices.multiply(xm, false, xm, true), tokens, cross, sq, tokens,
        256);
    LoraDa.Options o = new LoraDa.Options();
    o.n = 100_000;
    int r = 8;
    LoraDa.Result full = LoraDa.init("m", st, o, r, 2.0, EigenSolver.FULL);
    LoraDa.Result partial = LoraDa.init("m", st, o, r, 2.0, EigenSolver.PARTIAL);
    assertThat(partial.solver).isEqualTo("partial");
    assertThat(maxSinPrincipalAngle(full.factors.a().transpose(), partial.factors.a().transpose()))
        .isLessThan(1e-8);
    for (int k = 0; k < r; k++) {
      assertThat(partial.eigenvalues[k]).isCloseTo(full.eigenvalues[k],
          org.assertj.core.data.Offset.offset(1e-9 * Math.abs(full.eigenvalues[0])));
    }
    assertThat(Matrices.relativeFrobeniusDiff(partial.factors.delta(), full.factors.delta())).isLessThan(1e-8);
    // AUTO picks the partial solver at this size (d ≥ 512, r ≤ d/64).
    assertThat(LoraDa.init("m", st, o, r, 2.0, EigenSolver.AUTO).solver).isEqualTo("partial");
  }

  @Test
  void loraOneIsTheTruncatedNegativeGradientStepAndLowersTheLoss() {
    Softmax m = new Softmax(8, 5, 60, 14);
    DenseMatrix g = m.statistics().meanGradient();
    int r = 2;
    double scaling = 8.0;
    double gamma = 64;
    InitFactors f = LoraOne.init("head", g, r, scaling, gamma);
    // Reference: rank-r truncation of −Ḡ through the full eigendecomposition of ḠᵀḠ (right singular vectors).
    DenseMatrix neg = g.copy();
    Matrices.scale(-1, neg);
    SymmetricEigen.Result e = SymmetricEigen.full(naiveMultiply(neg.transpose(), neg)).descending();
    DenseMatrix v = e.vectors().columns(0, r);
    DenseMatrix trunc = naiveMultiply(naiveMultiply(neg, v), v.transpose());
    Matrices.scale(scaling / gamma, trunc);
    assertThat(relMax(f.delta(), trunc)).isLessThan(1e-9);
    assertThat(f.needsResidual()).isFalse();
    // The report's spectrum: every singular value of −Ḡ (the full route at this size), not only r; compared squared
    // with ḠᵀḠ's eigenvalues, whose accuracy is ε·σ₁² (Ḡ is rank-deficient: a softmax gradient's rows sum to zero).
    assertThat(f.spectrum()).hasSize(Math.min(g.rows(), g.cols()));
    for (int i = 0; i < f.spectrum().length; i++) {
      assertThat(f.spectrum()[i] * f.spectrum()[i]).as("σ_%d²", i + 1).isCloseTo(e.values()[i],
          within(1e-12 * e.values()[0]));
    }
    // First-order check: a small step along the truncated negative gradient lowers the loss.
    DenseMatrix after = m.w.copy();
    Matrices.axpy(1.0, f.delta(), after);
    assertThat(m.loss(after)).isLessThan(m.loss(m.w));
  }

  @Test
  void badInputIsNamed() {
    Softmax m = new Softmax(5, 3, 10, 15);
    LoraDa.Options o = new LoraDa.Options();
    o.n = 0;
    assertThatThrownBy(() -> LoraDa.quantities("layers.0.q_proj", m.statistics(), o))
        .isInstanceOf(ArgumentException.class).hasMessageContaining("'lora-da-n' is 0");
    o.n = -3;
    assertThatThrownBy(() -> LoraDa.quantities("layers.0.q_proj", m.statistics(), o))
        .hasMessageContaining("'lora-da-n' is -3");

    // A dead output unit: y[1] = 0.
    LoraDa.Statistics st = m.statistics();
    st.gradSqSum[1] = 0;
    for (int j = 0; j < m.in; j++) {
      st.gradInputCross.set(1, j, 0);
    }
    LoraDa.Options off = new LoraDa.Options();
    off.n = 100;
    off.yDamping = 0;
    assertThatThrownBy(() -> LoraDa.quantities("layers.0.q_proj", st, off))
        .isInstanceOf(ArgumentException.class)
        .hasMessageContaining("layers.0.q_proj").hasMessageContaining("y[1] = 0.0")
        .hasMessageContaining("lora-da-y-damping = 0");
    LoraDa.Options on = new LoraDa.Options();
    on.n = 100;
    assertThat(LoraDa.quantities("layers.0.q_proj", st, on).y[1]).isGreaterThan(0);

    // A rank-deficient input second moment without damping.
    LoraDa.Statistics singular = new LoraDa.Statistics(DenseMatrix.zeros(m.in, m.in), 10, st.gradInputCross,
        st.gradSqSum, 10, 3);
    LoraDa.Options noZ = new LoraDa.Options();
    noZ.n = 100;
    noZ.zDamping = 0;
    assertThatThrownBy(() -> LoraDa.quantities("layers.0.q_proj", singular, noZ))
        .hasMessageContaining("layers.0.q_proj").hasMessageContaining("lora-da-z-damping > 0");
    LoraDa.Options both = new LoraDa.Options();
    both.n = 100;
    both.varianceWeight = 0;
    both.biasWeight = 0;
    assertThatThrownBy(both::validate).hasMessageContaining("both 0");
    assertThatThrownBy(() -> LoraOne.init("m", DenseMatrix.zeros(3, 4), 2, 1.0, 1.0))
        .hasMessageContaining("mean gradient is zero");
  }
}
