package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.SymmetricEigen;

/**
 * SC-LoRA (seed 000, Algorithm 1; METHODS.md): with per-sample output covariances {@code Cov±} of the fine-tuning set
 * D+ and the preserved set D−, {@code ΔCov = (1−β)·Cov+ − β·Cov−}; {@code Q} holds the eigenvectors of its r
 * algebraically largest eigenvalues; {@code B = Q}, {@code A = Qᵀ W / s}, so {@code s·B·A = Q Qᵀ W} and the residual is
 * {@code W − Q Qᵀ W}. One pair of covariances serves every β.
 */
public final class ScLora {
  private ScLora() {}

  /** The chosen subspace of one β and its measures. */
  public static final class Subspace {
    private final double beta;
    private final DenseMatrix q;
    private final double[] eigenvalues;
    private final double capturedPlus;
    private final double capturedMinus;
    private final double tracePlus;
    private final double traceMinus;
    private final String solver;

    Subspace(double beta, DenseMatrix q, double[] eigenvalues, double capturedPlus, double capturedMinus,
        double tracePlus, double traceMinus, String solver) {
      this.solver = solver;
      this.beta = beta;
      this.q = q;
      this.eigenvalues = eigenvalues;
      this.capturedPlus = capturedPlus;
      this.capturedMinus = capturedMinus;
      this.tracePlus = tracePlus;
      this.traceMinus = traceMinus;
    }

    public double beta() {
      return beta;
    }

    /** Which eigensolver answered ("full", "partial", "partial→full"). */
    public String solver() {
      return solver;
    }

    /** out×r, orthonormal columns. */
    public DenseMatrix q() {
      return q;
    }

    /** The r largest eigenvalues of ΔCov, descending. */
    public double[] eigenvalues() {
      return eigenvalues;
    }

    /** {@code E‖Π_S h+‖² = tr(Qᵀ Cov+ Q)}. */
    public double capturedPlus() {
      return capturedPlus;
    }

    /** {@code E‖Π_S h−‖²}. */
    public double capturedMinus() {
      return capturedMinus;
    }

    /** {@code E‖h+‖² = tr Cov+}: captured / total is the fraction of D+ output energy inside S. */
    public double totalPlus() {
      return tracePlus;
    }

    public double totalMinus() {
      return traceMinus;
    }

    /** {@code R(S) = (1−β) E‖Π_S h+‖² − β E‖Π_S h−‖²} (Theorem 1's objective). */
    public double reward() {
      return (1 - beta) * capturedPlus - beta * capturedMinus;
    }
  }

  /** Fails unless β ∈ [0, 1]. */
  public static void checkBeta(double beta) {
    if (!(beta >= 0 && beta <= 1)) {
      throw new ArgumentException("SC-LoRA: β = " + beta + " is outside [0, 1]");
    }
  }

  /** {@code (1−β)·Cov+ − β·Cov−}. */
  public static DenseMatrix difference(DenseMatrix covPlus, DenseMatrix covMinus, double beta) {
    checkBeta(beta);
    if (covPlus.rows() != covMinus.rows() || covPlus.cols() != covMinus.cols()) {
      throw new ArgumentException("Cov+ is " + covPlus.shapeString() + " but Cov− is " + covMinus.shapeString());
    }
    DenseMatrix d = covPlus.copy();
    Matrices.scale(1 - beta, d);
    Matrices.axpy(-beta, covMinus, d);
    return d;
  }

  /**
   * The subspace of one β. {@code samplesMinus} is n_s of D−: with β = 1 and fewer samples than {@code out − r} the
   * maximiser is not unique (METHODS.md), which fails.
   */
  public static Subspace solve(DenseMatrix covPlus, DenseMatrix covMinus, long samplesMinus, double beta, int r,
      EigenSolver solver) {
    checkBeta(beta);
    int out = covPlus.rows();
    if (r < 1 || r > out) {
      throw new ArgumentException("SC-LoRA: rank r = " + r + " is larger than the module's output dimension " + out);
    }
    if (beta == 1.0 && samplesMinus < out - r) {
      throw new ArgumentException("SC-LoRA: β = 1 with " + samplesMinus + " D− samples < out − r = " + (out - r)
          + " has no unique solution (Cov− is rank deficient); use β < 1");
    }
    DenseMatrix delta = difference(covPlus, covMinus, beta);
    EigenSolver.Solved solved = solver.solve(delta, r);
    SymmetricEigen.Result eig = solved.result;
    DenseMatrix q = eig.vectors();
    Matrices.canonicalSigns(q);
    return new Subspace(beta, q, eig.values(), captured(q, covPlus), captured(q, covMinus), Matrices.trace(covPlus),
        Matrices.trace(covMinus), solved.solver);
  }

  /** {@code tr(Qᵀ C Q)}: the expected squared norm of the projection onto span(Q) of outputs with second moment C. */
  public static double captured(DenseMatrix q, DenseMatrix c) {
    DenseMatrix cq = Matrices.multiply(c, q);
    double s = 0;
    double[] a = q.data();
    double[] b = cq.data();
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** {@code B = Q}, {@code A = Qᵀ W / s}: {@code s·B·A = Q Qᵀ W}. */
  public static InitFactors factors(DenseMatrix w, Subspace subspace, double scaling) {
    DenseMatrix q = subspace.q();
    if (q.rows() != w.rows()) {
      throw new ArgumentException("Subspace lives in R^" + q.rows() + " but the weight is " + w.shapeString());
    }
    DenseMatrix a = Matrices.multiply(q, true, w, false);
    Matrices.scale(1.0 / scaling, a);
    return new InitFactors(a, q.copy(), scaling, true, subspace.eigenvalues());
  }
}
