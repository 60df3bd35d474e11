package io.loraspace.common.init;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/**
 * LoRA-One (the gradient-only baseline of seed 004; METHODS.md): SVD of the negative mean gradient
 * {@code −Ḡ = U S Vᵀ}; {@code B = U_r √S_r / √γ}, {@code A = √S_r V_rᵀ / √γ}, so {@code s·B·A = (s/γ)·(−Ḡ)_r}: one
 * best rank-r gradient step with learning rate s/γ. γ = 1 is the plain form; the public code's "stable" scaling divides
 * both factors by √γ with γ a tuning constant (its README example: 64). No residual: the init changes the model.
 * Only the r largest triplets are needed: {@link EigenSolver#svdTop} finds them by the partial solver when it can
 * verify them, as for PiSSA.
 */
public final class LoraOne {
  private LoraOne() {}

  /** With the full SVD. */
  public static InitFactors init(String module, DenseMatrix meanGradient, int r, double scaling, double gamma) {
    return init(module, meanGradient, r, scaling, gamma, EigenSolver.FULL).factors;
  }

  public static TripletInit init(String module, DenseMatrix meanGradient, int r, double scaling, double gamma,
      EigenSolver solver) {
    InitFactors.checkRank("LoRA-One", r, meanGradient.rows(), meanGradient.cols());
    if (!(gamma > 0) || !Double.isFinite(gamma)) {
      throw new ArgumentException("Option 'lora-one-gamma' is " + gamma + ", expected a finite value > 0");
    }
    if (!(meanGradient.frobeniusNorm() > 0)) {
      throw new ArgumentException("LoRA-One, module '" + module + "': the mean gradient is zero (no gradient reached "
          + "this module?)");
    }
    DenseMatrix neg = meanGradient.copy();
    Matrices.scale(-1.0, neg);
    EigenSolver.SvdSolved svd = solver.svdTop(neg, r);
    DenseMatrix u = svd.u;
    DenseMatrix v = svd.v;
    Matrices.canonicalSigns(u, v);
    double[] sv = svd.values;
    int out = u.rows();
    int in = v.rows();
    DenseMatrix a = DenseMatrix.zeros(r, in);
    DenseMatrix b = DenseMatrix.zeros(out, r);
    for (int k = 0; k < r; k++) {
      double root = Math.sqrt(sv[k] / gamma);
      for (int j = 0; j < in; j++) {
        a.set(k, j, root * v.get(j, k));
      }
      for (int i = 0; i < out; i++) {
        b.set(i, k, root * u.get(i, k));
      }
    }
    return new TripletInit(new InitFactors(a, b, scaling, false, svd.spectrum), svd);
  }
}
