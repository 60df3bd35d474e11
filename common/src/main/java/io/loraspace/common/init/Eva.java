package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.SymmetricEigen;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * EVA (METHODS.md; reference HF PEFT {@code tuners/lora/eva.py}): {@code lora_A} holds the top-r eigenvectors (as
 * rows) of the centred token-level input covariance {@code T/n_tok − μμᵀ}; {@code lora_B = 0}; no residual. PEFT
 * estimates these components by incremental PCA until successive estimates agree to cosine 0.99; we solve the
 * covariance exactly. Optional rank redistribution as in PEFT: every module offers the explained-variance ratios of
 * its top {@code round(ρ·r)} components, the global top {@code Σ r} ratios decide each module's rank.
 */
public final class Eva {
  private Eva() {}

  /** Components (rows) and explained-variance ratios of one input. */
  public static final class Components {
    /** k×in, orthonormal rows, descending variance. */
    public final DenseMatrix rows;
    /** Explained-variance ratios λ_i / tr(Σ) of the k components. */
    public final double[] ratios;
    /** Eigenvalues λ_i of the centred covariance. */
    public final double[] variances;
    /** The solver that answered ({@link EigenSolver.Solved#solver}). */
    public final String solver;

    Components(DenseMatrix rows, double[] ratios, double[] variances, String solver) {
      this.rows = rows;
      this.ratios = ratios;
      this.variances = variances;
      this.solver = solver;
    }
  }

  /** The centred covariance {@code T/n − μμᵀ}, {@code μ = Σx / n}. */
  public static DenseMatrix centredCovariance(DenseMatrix tokenGram, double[] tokenSum, long tokens) {
    int d = tokenGram.rows();
    if (tokens < 2) {
      throw new ArgumentException("EVA: the centred covariance needs at least 2 tokens, got " + tokens);
    }
    if (tokenSum.length != d) {
      throw new ArgumentException("EVA: token sum has length " + tokenSum.length + " but the Gram is "
          + tokenGram.shapeString());
    }
    DenseMatrix c = tokenGram.copy();
    Matrices.scale(1.0 / tokens, c);
    for (int j = 0; j < d; j++) {
      double mj = tokenSum[j] / tokens;
      for (int i = 0; i < d; i++) {
        c.add(i, j, -(tokenSum[i] / tokens) * mj);
      }
    }
    return c;
  }

  /** The top {@code k} components of the centred covariance. */
  public static Components components(DenseMatrix tokenGram, double[] tokenSum, long tokens, int k,
      EigenSolver solver) {
    DenseMatrix c = centredCovariance(tokenGram, tokenSum, tokens);
    int d = c.rows();
    if (k < 1 || k > d) {
      throw new ArgumentException("EVA: " + k + " components requested from a " + d + "-dimensional input");
    }
    EigenSolver.Solved solved = solver.solve(c, k);
    SymmetricEigen.Result eig = solved.result;
    DenseMatrix vecs = eig.vectors();
    Matrices.canonicalSigns(vecs);
    double total = Matrices.trace(c);
    double[] ratios = new double[k];
    for (int i = 0; i < k; i++) {
      ratios[i] = eig.values()[i] / total;
    }
    return new Components(vecs.transpose(), ratios, eig.values(), solved.solver);
  }

  /** {@code lora_A} = the first r components, {@code lora_B = 0}. */
  public static InitFactors init(Components c, int r, int out, double scaling) {
    InitFactors.checkRank("EVA", r, out, c.rows.cols());
    if (r > c.rows.rows()) {
      throw new ArgumentException("EVA: rank " + r + " but only " + c.rows.rows() + " components computed");
    }
    DenseMatrix a = DenseMatrix.zeros(r, c.rows.cols());
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < a.cols(); j++) {
        a.set(i, j, c.rows.get(i, j));
      }
    }
    return new InitFactors(a, DenseMatrix.zeros(out, r), scaling, false, c.variances);
  }

  /**
   * PEFT's redistribution: pools every module's ratios (the first {@code round(ρ·r_m)} offered by each), keeps the
   * {@code budget} largest and counts them per module. Modules may end with rank 0. Ties keep module order.
   */
  public static Map<String, Integer> redistribute(Map<String, double[]> offered, int budget) {
    List<Object[]> pool = new ArrayList<>();
    for (Map.Entry<String, double[]> e : offered.entrySet()) {
      for (double v : e.getValue()) {
        pool.add(new Object[] {e.getKey(), v});
      }
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < pool.size(); i++) {
      order.add(i);
    }
    Collections.sort(order, (x, y) -> Double.compare((double) pool.get(y)[1], (double) pool.get(x)[1]));
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String m : offered.keySet()) {
      counts.put(m, 0);
    }
    for (int i = 0; i < Math.min(budget, order.size()); i++) {
      String m = (String) pool.get(order.get(i))[0];
      counts.put(m, counts.get(m) + 1);
    }
    return counts;
  }
}
