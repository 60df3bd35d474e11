package io.loraspace.jobs.init;

import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.io.Dtype;
import java.io.Serializable;
import java.util.List;

/** One Spark task: one (module, method), with everything it needs to read only that module's tensors. */
final class InitTask implements Serializable {
  private static final long serialVersionUID = 1L;

  String module;
  Method method;
  int r;
  double scaling;
  String weightTensor;
  String biasTensor;
  String base;
  String store;
  /** Site file (store-relative) and counts of D+ / D−; null file when the dataset has no statistics for the module. */
  String plusFile;
  long plusSamples;
  long plusTokens;
  double plusSumTokensSquared;
  String minusFile;
  long minusSamples;
  long minusTokens;
  double minusSumTokensSquared;
  /** Gradient statistics of D+ (LoRA-DA, LoRA-One): store-relative file and its counts. */
  String gradFile;
  String gradDataset;
  String gradSite;
  long gradTokens;
  long gradSamples;
  io.loraspace.common.init.LoraDa.Options loraDa;
  double loraOneGamma;
  List<Double> betas;
  int evaComponents;
  EigenSolver solver;
  String staging;
  Dtype adapterDtype;
  /** null: the base weight's dtype. */
  Dtype residualDtype;
}
