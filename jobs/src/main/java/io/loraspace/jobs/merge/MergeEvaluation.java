package io.loraspace.jobs.merge;

import io.loraspace.common.merge.HeadDecomposition;
import io.loraspace.common.merge.MarginGrid;
import io.loraspace.common.merge.MergeTheory;
import java.util.Arrays;

/**
 * One evaluated merged head {@code W_pre + Σ α_i ΔW_i}: measured normalized margins {@code C(W; D)/‖W‖_F} and
 * accuracies on the datasets of its union (all datasets for a merge; D_pre and D_i for a single adapter, Theorem 3.2),
 * beside the theory's prediction for the same α (NaN when the theory is undefined).
 */
final class MergeEvaluation {
  final String kind;
  final String name;
  final double[] alpha;
  final int[] union;
  final double norm;
  final double[] margin;
  final double[] accuracy;
  final long[] worst;
  final double unionMargin;
  final double unionAccuracy;
  final double[] predicted;
  final double predictedUnion;

  /**
   * @param union the datasets (0 = pre, i = task i) over which the union margin and accuracy are taken
   */
  MergeEvaluation(String kind, String name, double[] alpha, int[] union, MarginGrid grid, int point, double[] gram,
      MergeTheory theory) {
    this.kind = kind;
    this.name = name;
    this.alpha = alpha.clone();
    this.union = union.clone();
    double[] c = new double[alpha.length + 1];
    c[0] = 1;
    System.arraycopy(alpha, 0, c, 1, alpha.length);
    this.norm = HeadDecomposition.norm(gram, c);
    this.margin = new double[union.length];
    this.accuracy = new double[union.length];
    this.worst = new long[union.length];
    this.predicted = new double[union.length];
    double um = Double.POSITIVE_INFINITY;
    double pm = Double.POSITIVE_INFINITY;
    long correct = 0;
    long count = 0;
    for (int u = 0; u < union.length; u++) {
      int d = union[u];
      margin[u] = grid.margin(point, d) / norm;
      accuracy[u] = (double) grid.correct(point, d) / grid.count(d);
      worst[u] = grid.argmin(point, d);
      predicted[u] = d == 0 ? theory.predictedPre(alpha) : theory.predictedTask(d - 1, alpha);
      um = Math.min(um, margin[u]);
      pm = Math.min(pm, predicted[u]);
      correct += grid.correct(point, d);
      count += grid.count(d);
    }
    this.unionMargin = um;
    this.unionAccuracy = (double) correct / count;
    this.predictedUnion = theory.defined() ? pm : Double.NaN;
  }

  /** Largest |measured − predicted| over the union's datasets; NaN when the theory is undefined. */
  double maxPredictionError() {
    double e = 0;
    for (int u = 0; u < union.length; u++) {
      e = Math.max(e, Math.abs(margin[u] - predicted[u]));
    }
    return Double.isNaN(predictedUnion) ? Double.NaN : e;
  }

  @Override
  public String toString() {
    return kind + " " + name + " α=" + Arrays.toString(alpha) + " union margin " + unionMargin;
  }
}
