package io.loraspace.common.correct;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.ThinSvd;
import java.util.ArrayList;
import java.util.List;

/**
 * Dense, formula-by-formula references: CSULoRA with out×out and in×in projectors and a full SVD of D (METHODS.md
 * steps 1–6 as written), and SafeLoRA exactly as PEFT PR #2201 computes it (C formed, C·B, C·B·A, cosine of the
 * flattened products, numpy rounding, the number-mode cut). Used by the tests and by the benchmark.
 */
public final class DenseReference {
  private DenseReference() {}

  /** What the dense CSULoRA computes. */
  public static final class Csu {
    public int k;
    public DenseMatrix u;
    public DenseMatrix v;
    public DenseMatrix delta;
    public DenseMatrix[] blocks = new DenseMatrix[4];
    public double[] energies = new double[4];
    public double[] lambdas;
    public DenseMatrix optimum;
    public DenseMatrix truncated;
    public double[] optimumSingularValues;
  }

  /** The top-k singular subspaces of D by a full SVD, k the smallest rank reaching τ (same 1e-12 slack). */
  public static Csu subspace(DenseMatrix d, double tau) {
    ThinSvd svd = ThinSvd.of(d);
    double[] s = svd.singularValues();
    double total = 0;
    for (double x : s) {
      total += x * x;
    }
    int k = 0;
    double cum = 0;
    while (total > 0 && k < s.length && cum < tau * total * (1 - 1e-12)) {
      cum += s[k] * s[k];
      k++;
    }
    Csu c = new Csu();
    c.k = k;
    c.u = svd.u().columns(0, k);
    c.v = svd.v().columns(0, k);
    return c;
  }

  /** Dense CSULoRA of {@code w} against D (full SVD of D). */
  public static Csu csuLora(DenseMatrix d, LoraUpdate w, double tau, Penalty p) {
    Csu c = subspace(d, tau);
    return csuLora(c.u, c.v, w, p);
  }

  /** Dense CSULoRA against given orthonormal U, V. */
  public static Csu csuLora(DenseMatrix u, DenseMatrix v, LoraUpdate w, Penalty p) {
    Csu c = new Csu();
    c.k = u.cols();
    c.u = u;
    c.v = v;
    DenseMatrix pu = Matrices.multiply(u, false, u, true);
    DenseMatrix pv = Matrices.multiply(v, false, v, true);
    DenseMatrix puPerp = Matrices.subtract(DenseMatrix.identity(pu.rows()), pu);
    DenseMatrix pvPerp = Matrices.subtract(DenseMatrix.identity(pv.rows()), pv);
    c.delta = w.dense();
    DenseMatrix[] lefts = {pu, pu, puPerp, puPerp};
    DenseMatrix[] rights = {pv, pvPerp, pv, pvPerp};
    for (int b = 0; b < 4; b++) {
      c.blocks[b] = Matrices.multiply(Matrices.multiply(lefts[b], c.delta), rights[b]);
      double f = c.blocks[b].frobeniusNorm();
      c.energies[b] = f * f;
    }
    c.lambdas = p.lambdas(c.energies[0], c.energies[1], c.energies[2], c.energies[3]);
    c.optimum = c.blocks[0].copy();
    for (int b = 1; b < 4; b++) {
      Matrices.axpy(1.0 / (1.0 + c.lambdas[b - 1]), c.blocks[b], c.optimum);
    }
    ThinSvd x = ThinSvd.of(c.optimum);
    c.optimumSingularValues = x.singularValues();
    int r = w.rank();
    DenseMatrix us = x.u().columns(0, r).copy();
    for (int j = 0; j < r; j++) {
      for (int i = 0; i < us.rows(); i++) {
        us.set(i, j, us.get(i, j) * c.optimumSingularValues[j]);
      }
    }
    c.truncated = Matrices.multiply(us, false, x.v().columns(0, r), true);
    return c;
  }

  /** The objective ‖X − ΔW‖² + Σ_b λ_b ‖Π_b X‖² with dense projectors. */
  public static double objective(DenseMatrix x, Csu c) {
    DenseMatrix pu = Matrices.multiply(c.u, false, c.u, true);
    DenseMatrix pv = Matrices.multiply(c.v, false, c.v, true);
    DenseMatrix puPerp = Matrices.subtract(DenseMatrix.identity(pu.rows()), pu);
    DenseMatrix pvPerp = Matrices.subtract(DenseMatrix.identity(pv.rows()), pv);
    double f = Matrices.subtract(x, c.delta).frobeniusNorm();
    double obj = f * f;
    DenseMatrix[] lefts = {pu, puPerp, puPerp};
    DenseMatrix[] rights = {pvPerp, pv, pvPerp};
    for (int b = 0; b < 3; b++) {
      double n = Matrices.multiply(Matrices.multiply(lefts[b], x), rights[b]).frobeniusNorm();
      obj += c.lambdas[b] * n * n;
    }
    return obj;
  }

  /** SafeLoRA per module as the PR computes it: cos (rounded) and W = C·B. */
  public static final class Safe {
    public double cos;
    public DenseMatrix projectedB;
  }

  /** {@code C = V Vᵀ / ‖V‖_F} formed (out×out). */
  public static DenseMatrix safetyProjector(DenseMatrix displacement) {
    DenseMatrix c = Matrices.multiply(displacement, false, displacement, true);
    Matrices.scale(1.0 / displacement.frobeniusNorm(), c);
    return c;
  }

  public static Safe safeLora(DenseMatrix displacement, DenseMatrix a, DenseMatrix b) {
    Safe s = new Safe();
    DenseMatrix p = safetyProjector(displacement);
    s.projectedB = Matrices.multiply(p, b);
    DenseMatrix fw = Matrices.multiply(s.projectedB, a);
    DenseMatrix ori = Matrices.multiply(b, a);
    double dot = 0;
    for (int i = 0; i < fw.data().length; i++) {
      dot += fw.data()[i] * ori.data()[i];
    }
    double den = fw.frobeniusNorm() * ori.frobeniusNorm();
    s.cos = Math.rint(dot / Math.max(den, 1e-8) * 1e5) / 1e5;
    return s;
  }

  /** The PR's selection: indices of modules projected (threshold mode, or number mode with k). */
  public static List<Integer> select(double[] cos, boolean numberMode, double threshold, int k) {
    double thr = threshold;
    if (numberMode) {
      double[] sorted = cos.clone();
      java.util.Arrays.sort(sorted);
      thr = sorted[Math.min(k, sorted.length) - 1];
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < cos.length; i++) {
      if (cos[i] <= thr) {
        out.add(i);
      }
    }
    return out;
  }
}
