package io.loraspace.common.correct;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.EnergySubspace;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.ThinSvd;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CSULoRA (seed 003; METHODS.md, "CSULoRA — partly reconstructed"), in factored form. With U (out×k), V (in×k) the
 * dominant singular subspaces of D = W_aligned − W_base holding a share τ of its energy, the update ΔW = s·B·A splits
 * into four mutually orthogonal blocks that sum to ΔW:
 *
 * <pre>
 *   AA = s·U Bu Av Vᵀ   AN = s·U Bu A⊥   NA = s·B⊥ Av Vᵀ   NN = s·B⊥ A⊥
 *   Bu = Uᵀ B (k×r), B⊥ = B − U Bu (out×r), Av = A V (r×k), A⊥ = A − Av Vᵀ (r×in)
 * </pre>
 *
 * {@code min_X ‖X − ΔW‖² + Σ_b λ_b ‖Π_b(X)‖²} (b ∈ {AN, NA, NN}) has the closed form
 * {@code X* = AA + Σ_b ΔW_b / (1 + λ_b)} (seed 003, Theorem 1), i.e. {@code X* = s·L·R} with {@code L = [U Bu | B⊥]}
 * (out×2r) and {@code R = [Av Vᵀ + c_AN A⊥ ; c_NA Av Vᵀ + c_NN A⊥]} (2r×in), {@code c_b = 1/(1+λ_b)}: rank ≤ 2r.
 * Re-factoring to rank r (Eckart–Young) takes thin QRs of L and Rᵀ and the SVD of the 2r×2r core; √σ goes to each
 * factor, so {@code s·B'·A'} is the truncated SVD of X* with the adapter's own scaling s. Energies and cosines come
 * from r×r Grams; no out×in matrix is formed.
 */
public final class CsuLora implements CorrectionMethod {
  private static final long serialVersionUID = 1L;
  public static final String NAME = "csulora";

  private final EnergySubspace.Options subspace;
  private final Penalty penalty;

  public CsuLora(EnergySubspace.Options subspace, Penalty penalty) {
    subspace.validate();
    this.subspace = subspace;
    this.penalty = penalty;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public ModuleCorrection correct(Displacement displacement, LoraUpdate update) {
    EnergySubspace sub = displacement.subspace(subspace);
    Result r = solve(update, sub.u(), sub.v(), penalty);
    return new ModuleCorrection(r.a, r.b, r.figures());
  }

  @Override
  public Map<String, Double> subspaceFigures(Displacement displacement) {
    EnergySubspace s = displacement.subspace(subspace);
    Map<String, Double> f = new LinkedHashMap<>();
    f.put("k", (double) s.k());
    f.put("energyShare", s.energyShare());
    f.put("displacementNorm", Math.sqrt(s.totalEnergy()));
    f.put("sigma1", s.k() > 0 ? s.sketchValues()[0] : 0.0);
    f.put("gapRatio", s.gapRatio());
    f.put("sketchColumns", (double) s.sketchColumns());
    f.put("powerIterations", (double) s.iterations());
    f.put("residual", s.residual());
    return f;
  }

  /** The outcome for one module: blocks (in factored form), energies, penalties and the rank-r factors. */
  public static final class Result {
    private final double scaling;
    private final DenseMatrix u;
    private final DenseMatrix v;
    private final DenseMatrix bu;
    private final DenseMatrix bPerp;
    private final DenseMatrix av;
    private final DenseMatrix aPerp;
    /** E_AA, E_AN, E_NA, E_NN. */
    final double[] energies = new double[4];
    /** λ_AN, λ_NA, λ_NN. */
    double[] lambdas;
    /** Singular values of X* (scaled by s), descending, up to 2r of them. */
    double[] singularValues;
    DenseMatrix a;
    DenseMatrix b;
    double cosCorrected;

    private Result(double scaling, DenseMatrix u, DenseMatrix v, DenseMatrix bu, DenseMatrix bPerp, DenseMatrix av,
        DenseMatrix aPerp) {
      this.scaling = scaling;
      this.u = u;
      this.v = v;
      this.bu = bu;
      this.bPerp = bPerp;
      this.av = av;
      this.aPerp = aPerp;
    }

    /** Block names in the order of {@link #energies()} and {@link #block}. */
    public static final String[] BLOCKS = {"AA", "AN", "NA", "NN"};

    /** {E_AA, E_AN, E_NA, E_NN}. */
    public double[] energies() {
      return energies.clone();
    }

    /** {λ_AN, λ_NA, λ_NN}. */
    public double[] lambdas() {
      return lambdas.clone();
    }

    /** Block i of {@link #BLOCKS} as {left, right} with ΔW_i = left · right (left out×·, right ·×in). */
    public DenseMatrix[] block(int i) {
      DenseMatrix uBu = Matrices.multiply(u, bu);
      Matrices.scale(scaling, uBu);
      DenseMatrix bp = bPerp.copy();
      Matrices.scale(scaling, bp);
      DenseMatrix avVt = Matrices.multiply(av, false, v, true);
      switch (i) {
        case 0:
          return new DenseMatrix[] {uBu, avVt};
        case 1:
          return new DenseMatrix[] {uBu, aPerp};
        case 2:
          return new DenseMatrix[] {bp, avVt};
        case 3:
          return new DenseMatrix[] {bp, aPerp};
        default:
          throw new IllegalArgumentException("Block index " + i + ", expected 0..3");
      }
    }

    /** Corrected lora_A (r×in). */
    public DenseMatrix a() {
      return a;
    }

    /** Corrected lora_B (out×r). */
    public DenseMatrix b() {
      return b;
    }

    /** σ_1.. of X* (at most 2r), descending. */
    public double[] singularValues() {
      return singularValues.clone();
    }

    /** ‖ΔW‖_F² = Σ_b E_b. */
    public double deltaEnergy() {
      return energies[0] + energies[1] + energies[2] + energies[3];
    }

    private double coefficient(int block) {
      return block == 0 ? 1.0 : 1.0 / (1.0 + lambdas[block - 1]);
    }

    /** ‖X*‖_F² = Σ_b c_b² E_b. */
    public double correctedEnergy() {
      double e = 0;
      for (int i = 0; i < 4; i++) {
        e += coefficient(i) * coefficient(i) * energies[i];
      }
      return e;
    }

    /** cos(vec ΔW, vec X*) = Σ_b c_b E_b / (‖ΔW‖ ‖X*‖); NaN when ΔW = 0. */
    public double cosDeltaOptimum() {
      double dot = 0;
      for (int i = 0; i < 4; i++) {
        dot += coefficient(i) * energies[i];
      }
      double den = Math.sqrt(deltaEnergy() * correctedEnergy());
      return den == 0 ? Double.NaN : dot / den;
    }

    /** ‖X* − X*_r‖_F: the cost of keeping rank r. */
    public double truncationError() {
      double e = 0;
      for (int j = b.cols(); j < singularValues.length; j++) {
        e += singularValues[j] * singularValues[j];
      }
      return Math.sqrt(e);
    }

    /** Figures for the report. */
    public Map<String, Double> figures() {
      Map<String, Double> f = new LinkedHashMap<>();
      f.put("k", (double) u.cols());
      for (int i = 0; i < 4; i++) {
        f.put("E" + BLOCKS[i], energies[i]);
      }
      for (int i = 1; i < 4; i++) {
        f.put("lambda" + BLOCKS[i], lambdas[i - 1]);
      }
      f.put("cosDeltaOptimum", cosDeltaOptimum());
      f.put("cosDeltaCorrected", cosCorrected);
      f.put("deltaNorm", Math.sqrt(deltaEnergy()));
      f.put("optimumNorm", Math.sqrt(correctedEnergy()));
      double t = truncationError();
      f.put("truncationError", t);
      double xn = Math.sqrt(correctedEnergy());
      f.put("relativeTruncationError", xn == 0 ? 0.0 : t / xn);
      return f;
    }
  }

  /**
   * CSULoRA for one module against given subspaces U (out×k) and V (in×k), orthonormal columns (k may be 0).
   */
  public static Result solve(LoraUpdate update, DenseMatrix u, DenseMatrix v, Penalty penalty) {
    DenseMatrix a = update.a();
    DenseMatrix b = update.b();
    double s = update.scaling();
    int r = update.rank();
    // Projections applied twice ("twice is enough"), so B⊥ ⟂ U and A⊥ ⟂ V to working precision.
    DenseMatrix bu = Matrices.multiply(u, true, b, false);
    DenseMatrix bPerp = b.copy();
    Matrices.multiply(-1.0, u, false, bu, false, 1.0, bPerp);
    DenseMatrix c = Matrices.multiply(u, true, bPerp, false);
    Matrices.multiply(-1.0, u, false, c, false, 1.0, bPerp);
    Matrices.axpy(1.0, c, bu);
    DenseMatrix av = Matrices.multiply(a, false, v, false);
    DenseMatrix aPerp = a.copy();
    Matrices.multiply(-1.0, av, false, v, true, 1.0, aPerp);
    DenseMatrix c2 = Matrices.multiply(aPerp, false, v, false);
    Matrices.multiply(-1.0, c2, false, v, true, 1.0, aPerp);
    Matrices.axpy(1.0, c2, av);

    Result res = new Result(s, u, v, bu, bPerp, av, aPerp);
    DenseMatrix gBu = Matrices.multiply(bu, true, bu, false);
    DenseMatrix gBp = Matrices.multiply(bPerp, true, bPerp, false);
    DenseMatrix gAv = Matrices.multiply(av, false, av, true);
    DenseMatrix gAp = Matrices.multiply(aPerp, false, aPerp, true);
    double s2 = s * s;
    res.energies[0] = s2 * Factored.inner(gBu, gAv);
    res.energies[1] = s2 * Factored.inner(gBu, gAp);
    res.energies[2] = s2 * Factored.inner(gBp, gAv);
    res.energies[3] = s2 * Factored.inner(gBp, gAp);
    res.lambdas = penalty.lambdas(res.energies[0], res.energies[1], res.energies[2], res.energies[3]);
    double cAN = 1.0 / (1.0 + res.lambdas[0]);
    double cNA = 1.0 / (1.0 + res.lambdas[1]);
    double cNN = 1.0 / (1.0 + res.lambdas[2]);

    int out = update.out();
    int in = update.in();
    DenseMatrix left = DenseMatrix.zeros(out, 2 * r);
    DenseMatrix uBu = Matrices.multiply(u, bu);
    System.arraycopy(uBu.data(), 0, left.data(), 0, out * r);
    System.arraycopy(bPerp.data(), 0, left.data(), out * r, out * r);
    DenseMatrix avVt = Matrices.multiply(av, false, v, true); // r×in
    DenseMatrix right = DenseMatrix.zeros(2 * r, in);
    for (int j = 0; j < in; j++) {
      for (int i = 0; i < r; i++) {
        double x = avVt.get(i, j);
        double y = aPerp.get(i, j);
        right.set(i, j, x + cAN * y);
        right.set(r + i, j, cNA * x + cNN * y);
      }
    }
    refactor(res, left, right, s, r);
    res.cosCorrected = cosine(update, res.b, res.a);
    return res;
  }

  /** Truncated SVD of s·L·R to rank r: B' = Q_L U_r √Σ_r, A' = √Σ_r V_rᵀ Q_Rᵀ, so s·B'·A' = (X*)_r. */
  private static void refactor(Result res, DenseMatrix left, DenseMatrix right, double s, int r) {
    Qr ql = Qr.of(left);
    Qr qr = Qr.of(right.transpose());
    DenseMatrix core = Matrices.multiply(ql.r(), false, qr.r(), true);
    ThinSvd svd = ThinSvd.of(core);
    DenseMatrix cu = svd.u();
    DenseMatrix cv = svd.v();
    Matrices.canonicalSigns(cu, cv);
    double[] sig = svd.singularValues();
    int keep = Math.min(r, sig.length);
    DenseMatrix bScaled = DenseMatrix.zeros(cu.rows(), r);
    DenseMatrix aScaledT = DenseMatrix.zeros(cv.rows(), r);
    for (int j = 0; j < keep; j++) {
      double w = Math.sqrt(sig[j]);
      for (int i = 0; i < cu.rows(); i++) {
        bScaled.set(i, j, cu.get(i, j) * w);
      }
      for (int i = 0; i < cv.rows(); i++) {
        aScaledT.set(i, j, cv.get(i, j) * w);
      }
    }
    res.b = Matrices.multiply(ql.q(), bScaled);
    res.a = Matrices.multiply(qr.q(), aScaledT).transpose();
    res.singularValues = new double[sig.length];
    for (int j = 0; j < sig.length; j++) {
      res.singularValues[j] = s * sig[j];
    }
  }

  /** cos(vec(B A), vec(B' A')) from r×r Grams; NaN when either product is zero. */
  static double cosine(LoraUpdate w, DenseMatrix b2, DenseMatrix a2) {
    double dot = Factored.innerOfProducts(w.b(), w.a(), b2, a2);
    double n1 = w.unscaledEnergy();
    double n2 = Factored.innerOfProducts(b2, a2, b2, a2);
    double den = Math.sqrt(n1 * n2);
    return den == 0 ? Double.NaN : dot / den;
  }
}
