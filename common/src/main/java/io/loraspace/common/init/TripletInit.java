package io.loraspace.common.init;

/** An init made from r singular triplets (PiSSA, LoRA-One): the factors, and which solver gave the triplets. */
public final class TripletInit {
  public final InitFactors factors;
  /** {@link EigenSolver.SvdSolved#solver}. */
  public final String solver;
  /** Why AUTO fell back to the full SVD; null otherwise. */
  public final String fallbackReason;

  TripletInit(InitFactors factors, EigenSolver.SvdSolved svd) {
    this.factors = factors;
    this.solver = svd.solver;
    this.fallbackReason = svd.fallbackReason;
  }
}
