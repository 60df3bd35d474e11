package io.loraspace.jobs.bench;

import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Subspaces;
import io.loraspace.common.recycle.AdapterPca;
import io.loraspace.common.recycle.LeaveOneOutPca;
import io.loraspace.common.synth.SyntheticAdapters;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (not a test): leave-one-out folds of one (module, factor) at Lots-of-LoRAs shape — lora_A of q_proj,
 * d = 4096, N adapters of rank 16 — by the eigenbasis downdate against exact recomputation (Gram of the other N − 1
 * adapters + dsyevr top K), on the same folds in one run. Prints per-fold times, restarts, the speed-up and the
 * largest principal-angle sine and held-out-error difference. Two untimed warm-up folds come first.
 *
 * <p>Usage: {@code scripts/bench-recycle.sh [adapters] [d] [K] [folds]} (default 500, 4096, 16, 5).
 */
public final class RecycleBenchmark {
  private RecycleBenchmark() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int d = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
    int k = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    int folds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    SyntheticAdapters.Spec s = new SyntheticAdapters.Spec();
    s.adapters = n;
    s.layers = 1;
    s.hidden = d;
    s.kvDim = Math.max(16, d / 4);
    s.moduleTypes = List.of("q_proj");
    s.r = 16;
    s.rMin = 16;
    s.alpha = 32;
    s.sharedRank = 16;
    s.seed = 7;
    System.out.println("# recycle leave-one-out fold, lora_A of q_proj, d = " + d + ", " + n + " adapters of rank 16, "
        + "K = " + k + "; " + Blas.describe());
    long t0 = System.nanoTime();
    String module = s.modules().get(0);
    List<DenseMatrix> vs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      LoraAdapter a = SyntheticAdapters.adapter(s, i);
      vs.add(a.factors(module).a().transpose());
    }
    DenseMatrix stacked = DenseMatrix.zeros(d, n * 16);
    for (int i = 0; i < n; i++) {
      System.arraycopy(vs.get(i).data(), 0, stacked.data(), i * 16 * d, 16 * d);
    }
    System.out.printf("collection generated in %.1f s (not timed below)%n", (System.nanoTime() - t0) / 1e9);
    t0 = System.nanoTime();
    AdapterPca.Totals tot = new AdapterPca.Totals(d);
    tot.add(stacked);
    double tGram = (System.nanoTime() - t0) / 1e9;
    t0 = System.nanoTime();
    AdapterPca.Eigenbasis e = AdapterPca.eigenbasis(tot, true);
    double tEig = (System.nanoTime() - t0) / 1e9;
    System.out.printf("once per (module, factor): Gram %.2f s, full eigendecomposition %.2f s%n", tGram, tEig);
    // Two untimed warm-up folds (JIT, BLAS buffers).
    for (int w = 0; w < 2; w++) {
      LeaveOneOutPca.fold(e, vs.get(n - 1 - w), k, LeaveOneOutPca.Options.defaults(), true);
    }
    double down = 0;
    double exact = 0;
    double worstSin = 0;
    double worstErr = 0;
    for (int f = 0; f < folds; f++) {
      int i = (int) ((long) f * 7919 % n);
      DenseMatrix mine = vs.get(i);
      long f0 = System.nanoTime();
      LeaveOneOutPca.Fold fold = LeaveOneOutPca.fold(e, mine, k, LeaveOneOutPca.Options.defaults(), false);
      double tf = (System.nanoTime() - f0) / 1e9;
      DenseMatrix comps = LeaveOneOutPca.fold(e, mine, k, LeaveOneOutPca.Options.defaults(), true).basis;
      long x0 = System.nanoTime();
      AdapterPca.Totals rest = new AdapterPca.Totals(d);
      if (i > 0) {
        rest.add(stacked.columns(0, i * 16));
      }
      if (i < n - 1) {
        rest.add(stacked.columns((i + 1) * 16, n * 16));
      }
      AdapterPca.Options o = new AdapterPca.Options();
      o.components = k;
      AdapterPca.Basis b = AdapterPca.fit(rest, o, "bench");
      double tx = (System.nanoTime() - x0) / 1e9;
      double sin = Subspaces.maxSinPrincipalAngle(b.components, comps);
      double errDiff = Math.abs(b.relativeError(mine) - fold.heldOutError) / b.relativeError(mine);
      worstSin = Math.max(worstSin, sin);
      worstErr = Math.max(worstErr, errDiff);
      down += tf;
      exact += tx;
      System.out.printf("fold %3d: downdate %.3f s (%s, %d restarts), recomputation %.2f s -> %.0fx; sin(theta) %.1e, "
          + "held-out error %.4f (rel. diff %.1e)%n", i, tf, fold.solver.id(), fold.restarts, tx, tx / tf, sin,
          fold.heldOutError, errDiff);
    }
    System.out.printf("per-fold speed-up over %d folds: %.0fx (downdate %.3f s/fold, recomputation %.2f s/fold); "
        + "max sin(theta) %.1e, max rel. held-out error diff %.1e%n", folds, exact / down, down / folds,
        exact / folds, worstSin, worstErr);
  }
}
