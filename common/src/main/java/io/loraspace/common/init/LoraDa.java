package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.Cholesky;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import java.util.Locale;

/**
 * LoRA-DA (seed 004, Algorithm 1; METHODS.md), stated in the paper's orientation {@code Y = Z W_p}, {@code W_p = Wᵀ}
 * (in×out), then mapped to PEFT factors.
 *
 * <ul>
 *   <li>K-FAC: {@code Z_f = T / n_tok + δ_z I} (in×in) and the output-gradient diagonal {@code y = Σ g∘g / n_tok + δ_y}
 *       (out); the i-th diagonal block of the inverse Fisher is {@code Z_f⁻¹ / y_i}.
 *   <li>Fisher-gradient displacement {@code Δ = −Z_f⁻¹ Ḡᵀ diag(1/y)} (in×out), or {@code Δ = −Ḡᵀ} (raw gradient
 *       ablation), with {@code Ḡ} the mean per-sample gradient (out×in).
 *   <li>Guidance matrix {@code Ω = w_var (Σ_i 1/y_i) Z_f⁻¹ / N − w_bias Δ Δᵀ} (in×in), N the fine-tuning set size.
 *   <li>{@code A_p}: eigenvectors of the r smallest eigenvalues of Ω; {@code B_p = A_pᵀ Δ} (r×out).
 *   <li>PEFT: {@code lora_A = A_pᵀ}, {@code lora_B = B_pᵀ / (s γ)}, so {@code s·B·A = (A_p B_p)ᵀ / γ}; no residual
 *       (the init changes the model on purpose). γ = 1 is the paper; γ > 1 shrinks the step (an option).
 * </ul>
 *
 * <p>Damping is relative: {@code δ_z = zDamping · mean(diag Z)}, {@code δ_y = yDamping · mean(y)}; zero switches it
 * off, and then a singular Z or a zero entry of y fails naming the module and the entry.
 */
public final class LoraDa {
  private LoraDa() {}

  /** Which displacement enters Ω and B. */
  public enum Displacement {
    /** {@code Δ = −Z_f⁻¹ Ḡᵀ diag(1/y)} (the paper). */
    FISHER,
    /** {@code Δ = −Ḡᵀ} (ablation; with no variance term this is Remark 3, i.e. LoRA-One's subspace). */
    GRADIENT;

    public static Displacement parse(String s) {
      switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "fisher":
          return FISHER;
        case "gradient":
          return GRADIENT;
        default:
          throw new ArgumentException("Option 'lora-da-displacement' is '" + s + "', expected fisher or gradient");
      }
    }
  }

  /** Options; defaults are documented in docs/init.md. */
  public static final class Options implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Size of the fine-tuning set (not the number of statistics samples). */
    public long n;
    public double zDamping = 1e-3;
    public double yDamping = 1e-3;
    public double varianceWeight = 1.0;
    public double biasWeight = 1.0;
    public Displacement displacement = Displacement.FISHER;
    public double gamma = 1.0;

    public void validate() {
      if (n <= 0) {
        throw new ArgumentException("Option 'lora-da-n' is " + n + ": N, the size of the fine-tuning set, must be ≥ 1");
      }
      check("lora-da-z-damping", zDamping);
      check("lora-da-y-damping", yDamping);
      check("lora-da-variance-weight", varianceWeight);
      check("lora-da-bias-weight", biasWeight);
      if (!(gamma > 0) || !Double.isFinite(gamma)) {
        throw new ArgumentException("Option 'lora-da-gamma' is " + gamma + ", expected a finite value > 0");
      }
      if (varianceWeight == 0 && biasWeight == 0) {
        throw new ArgumentException("Options 'lora-da-variance-weight' and 'lora-da-bias-weight' are both 0: Ω = 0 "
            + "chooses no subspace");
      }
    }

    private static void check(String name, double v) {
      if (!(v >= 0) || !Double.isFinite(v)) {
        throw new ArgumentException("Option '" + name + "' is " + v + ", expected a finite value ≥ 0");
      }
    }

    /** What produced the adapter, for reports. */
    public String describe() {
      StringBuilder b = new StringBuilder("lora-da");
      boolean paper = varianceWeight == 1 && biasWeight == 1 && displacement == Displacement.FISHER && gamma == 1;
      if (paper) {
        b.append(" (paper: variance and bias terms, Fisher-gradient displacement)");
      } else {
        b.append(" (ablation:");
        b.append(varianceWeight == 0 ? " no variance term," : " variance weight " + varianceWeight + ",");
        b.append(biasWeight == 0 ? " no bias term," : " bias weight " + biasWeight + ",");
        b.append(displacement == Displacement.FISHER ? " Fisher-gradient displacement" : " raw-gradient displacement");
        if (gamma != 1) {
          b.append(", step divided by γ = ").append(gamma);
        }
        b.append(")");
      }
      return b.append(", N = ").append(n).toString();
    }
  }

  /** One module's statistics: token Gram of its input site and its gradient statistics (same dataset). */
  public static final class Statistics {
    public final DenseMatrix tokenGram;
    public final long tokens;
    /** Σ_tokens g xᵀ (out×in). */
    public final DenseMatrix gradInputCross;
    /** Σ_tokens g∘g (out). */
    public final double[] gradSqSum;
    public final long gradTokens;
    public final long gradSamples;

    public Statistics(DenseMatrix tokenGram, long tokens, DenseMatrix gradInputCross, double[] gradSqSum,
        long gradTokens, long gradSamples) {
      this.tokenGram = tokenGram;
      this.tokens = tokens;
      this.gradInputCross = gradInputCross;
      this.gradSqSum = gradSqSum;
      this.gradTokens = gradTokens;
      this.gradSamples = gradSamples;
    }

    /** Mean per-sample gradient Ḡ (out×in). */
    public DenseMatrix meanGradient() {
      DenseMatrix g = gradInputCross.copy();
      Matrices.scale(1.0 / gradSamples, g);
      return g;
    }
  }

  /** The intermediate quantities, exposed for tests and reports. */
  public static final class Quantities {
    /** Z_f⁻¹ with damping (null when no term needs it). */
    public DenseMatrix zInverse;
    /** y with damping. */
    public double[] y;
    public double deltaZ;
    public double deltaY;
    /** Δ (in×out). */
    public DenseMatrix delta;
    /** Ω (in×in). */
    public DenseMatrix omega;
  }

  /** The result: factors, the r smallest eigenvalues of Ω, the solver used, and the quantities. */
  public static final class Result {
    public final InitFactors factors;
    public final double[] eigenvalues;
    public final String solver;
    public final Quantities quantities;

    Result(InitFactors factors, double[] eigenvalues, String solver, Quantities quantities) {
      this.factors = factors;
      this.eigenvalues = eigenvalues;
      this.solver = solver;
      this.quantities = quantities;
    }
  }

  /** Z_f, y, Δ and Ω from the statistics of module {@code module} (named in errors). */
  public static Quantities quantities(String module, Statistics st, Options o) {
    o.validate();
    int out = st.gradInputCross.rows();
    int in = st.gradInputCross.cols();
    if (st.tokenGram.rows() != in || st.gradSqSum.length != out) {
      throw new ArgumentException("LoRA-DA, module '" + module + "': token Gram is " + st.tokenGram.shapeString()
          + ", gradient cross " + st.gradInputCross.shapeString() + ", gradient diagonal [" + st.gradSqSum.length
          + "]: shapes disagree");
    }
    if (st.tokens <= 0 || st.gradTokens <= 0 || st.gradSamples <= 0) {
      throw new ArgumentException("LoRA-DA, module '" + module + "': statistics count " + st.tokens + " tokens, "
          + st.gradTokens + " gradient tokens and " + st.gradSamples + " gradient samples; all must be ≥ 1");
    }
    boolean needY = o.displacement == Displacement.FISHER || o.varianceWeight > 0;
    boolean needZInverse = o.varianceWeight > 0;
    boolean needZ = needZInverse || o.displacement == Displacement.FISHER;
    Quantities q = new Quantities();
    if (needY) {
      double[] y = new double[out];
      double mean = 0;
      for (int i = 0; i < out; i++) {
        y[i] = st.gradSqSum[i] / st.gradTokens;
        mean += y[i] / out;
      }
      q.deltaY = o.yDamping * mean;
      for (int i = 0; i < out; i++) {
        y[i] += q.deltaY;
        if (!(y[i] > 0) || !Double.isFinite(y[i])) {
          throw new ArgumentException("LoRA-DA, module '" + module + "': output-gradient diagonal y[" + i + "] = "
              + y[i] + (o.yDamping == 0 ? " with lora-da-y-damping = 0; set lora-da-y-damping > 0"
              : " after damping (no gradient reached this module?)"));
        }
      }
      q.y = y;
    }
    Cholesky chol = null;
    if (needZ) {
      DenseMatrix z = st.tokenGram.copy();
      Matrices.scale(1.0 / st.tokens, z);
      q.deltaZ = o.zDamping * Matrices.trace(z) / in;
      try {
        chol = Cholesky.factor(z, q.deltaZ);
      } catch (StateException e) {
        throw new ArgumentException("LoRA-DA, module '" + module + "': the input second moment Z + δ_z·I (δ_z = "
            + q.deltaZ + ") is singular: " + e.getMessage() + (o.zDamping == 0
            ? "; set lora-da-z-damping > 0" : "; increase lora-da-z-damping"), e);
      }
      if (needZInverse) {
        q.zInverse = chol.inverse();
      }
    }
    // Ḡᵀ (in×out), then Δ.
    DenseMatrix gt = st.meanGradient().transpose();
    if (o.displacement == Displacement.FISHER) {
      double[] d = gt.data();
      for (int j = 0; j < out; j++) {
        double inv = 1.0 / q.y[j];
        for (int i = 0; i < in; i++) {
          d[i + j * in] *= inv;
        }
      }
      q.delta = chol.solve(gt);
    } else {
      q.delta = gt;
    }
    Matrices.scale(-1.0, q.delta);
    // Cost at in = out = d: dpotrf d³/3, dpotri (2/3)d³, Δ by dpotrs 2d³, ΔΔᵀ by dsyrk d³ (upper triangle only).
    DenseMatrix omega;
    if (o.varianceWeight > 0) {
      double sumInvY = 0;
      for (double v : q.y) {
        sumInvY += 1.0 / v;
      }
      omega = q.zInverse.copy();
      Matrices.scale(o.varianceWeight * sumInvY / o.n, omega);
    } else {
      omega = DenseMatrix.zeros(in, in);
    }
    if (o.biasWeight > 0) {
      Matrices.syrkUpper(-o.biasWeight, q.delta, 1.0, omega);
    }
    omega.symmetrizeFromUpper();
    q.omega = omega;
    return q;
  }

  /** The LoRA-DA factors of one module: r smallest eigenpairs of Ω by {@code solver}, then the PEFT mapping. */
  public static Result init(String module, Statistics st, Options o, int r, double scaling, EigenSolver solver) {
    int out = st.gradInputCross.rows();
    int in = st.gradInputCross.cols();
    InitFactors.checkRank("LoRA-DA", r, out, in);
    Quantities q = quantities(module, st, o);
    EigenSolver.Solved s = solver.solveBottom(q.omega, r);
    DenseMatrix ap = s.result.vectors();
    Matrices.canonicalSigns(ap);
    // B_p = A_pᵀ Δ (r×out); lora_B = B_pᵀ / (s γ) = Δᵀ A_p / (s γ).
    DenseMatrix b = Matrices.multiply(q.delta, true, ap, false);
    Matrices.scale(1.0 / (scaling * o.gamma), b);
    InitFactors f = new InitFactors(ap.transpose(), b, scaling, false, s.result.values());
    return new Result(f, s.result.values(), s.solver, q);
  }
}
