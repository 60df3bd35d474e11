package io.loraspace.common.init;

import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.ThinSvd;

/**
 * PiSSA (data-free; METHODS.md and HF PEFT's {@code pissa_init}): {@code W = U Σ Vᵀ}, {@code S_r = Σ_r / s},
 * {@code A = √S_r V_rᵀ}, {@code B = U_r √S_r}, residual {@code W − s·B·A}.
 */
public final class Pissa {
  private Pissa() {}

  public static InitFactors init(DenseMatrix w, int r, double scaling) {
    InitFactors.checkRank("PiSSA", r, w.rows(), w.cols());
    ThinSvd svd = ThinSvd.of(w);
    DenseMatrix u = svd.u().columns(0, r);
    DenseMatrix v = svd.v().columns(0, r);
    Matrices.canonicalSigns(u, v);
    double[] sv = java.util.Arrays.copyOf(svd.singularValues(), r);
    return Factorizations.balanced(u, sv, v, scaling, sv);
  }
}
