package io.loraspace.common.init;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/**
 * PiSSA (data-free; METHODS.md and HF PEFT's {@code pissa_init}): {@code W = U Σ Vᵀ}, {@code S_r = Σ_r / s},
 * {@code A = √S_r V_rᵀ}, {@code B = U_r √S_r}, residual {@code W − s·B·A}. Only the r largest triplets are needed:
 * a partial solver finds them without the full SVD ({@link EigenSolver#svdTop}).
 */
public final class Pissa {
  private Pissa() {}

  /** With the full SVD. */
  public static InitFactors init(DenseMatrix w, int r, double scaling) {
    return init(w, r, scaling, EigenSolver.FULL).factors;
  }

  public static TripletInit init(DenseMatrix w, int r, double scaling, EigenSolver solver) {
    InitFactors.checkRank("PiSSA", r, w.rows(), w.cols());
    EigenSolver.SvdSolved svd = solver.svdTop(w, r);
    DenseMatrix u = svd.u;
    DenseMatrix v = svd.v;
    Matrices.canonicalSigns(u, v);
    return new TripletInit(Factorizations.balanced(u, svd.values, v, scaling, svd.spectrum), svd);
  }
}
