package io.loraspace.common.correct;

import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.EnergySubspace;
import io.loraspace.common.linalg.Matrices;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;
import java.util.Random;

/**
 * CSULoRA benchmark (docs/benchmarks.md; not a test, not in the product jar): {@code scripts/bench-correct.sh
 * [d] [r] [adapters] [sample]}. One module D (d×d, planted rank 512 with σ_j = 0.985^j: τ = 0.9 needs k ≈ 76) and
 * updates of rank r. Prints, measured side by side in this run: factored vs dense CSULoRA (time ratio, agreement of
 * the corrected update, bytes allocated and peak heap of each), and a collection of N adapters against one shared
 * subspace vs one by one (subspace recomputed per adapter; timed on a sample and scaled to N).
 */
public final class CorrectBenchmark {
  private CorrectBenchmark() {}

  private static long allocated() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  private static void resetPeak() {
    System.gc();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  private static long peak() {
    long s = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        s += p.getPeakUsage().getUsed();
      }
    }
    return s;
  }

  public static void main(String[] args) {
    int d = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int r = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    int n = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    int sample = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    Random rnd = new Random(1);
    int p = Math.min(512, d);
    double[] sigma = new double[p];
    for (int j = 0; j < p; j++) {
      sigma[j] = Math.pow(0.985, j);
    }
    DenseMatrix u0 = CorrectTesting.orthonormal(d, p, rnd);
    DenseMatrix v0 = CorrectTesting.orthonormal(d, p, rnd);
    DenseMatrix dm = CorrectTesting.planted(u0, sigma, v0);
    LoraUpdate w = CorrectTesting.update(u0.columns(0, 16), v0.columns(0, 16), r, 0.5, rnd);
    Penalty pen = Penalty.energyRatio(1e-3);
    EnergySubspace.Options o = new EnergySubspace.Options();
    System.out.printf(Locale.ROOT, "# CSULoRA, one module d = %d, r = %d, tau = %.2f; %s%n", d, r, o.energy,
        Blas.describe());

    new CsuLora(o, pen).correct(new Displacement("warm-up", dm), w); // JIT warm-up, not timed
    // Interleaved repetitions, best of each (the machine is shared: one slow repetition says little). Memory is
    // measured on the first repetition of each side.
    int reps = Integer.getInteger("reps", 2);
    double factoredS = Double.POSITIVE_INFINITY;
    double denseS = Double.POSITIVE_INFINITY;
    long factoredAlloc = 0;
    long factoredPeak = 0;
    long denseAlloc = 0;
    long densePeak = 0;
    ModuleCorrection f = null;
    EnergySubspace sub = null;
    DenseReference.Csu ref = null;
    StringBuilder times = new StringBuilder();
    for (int rep = 0; rep < reps; rep++) {
      resetPeak();
      long a0 = allocated();
      long t0 = System.nanoTime();
      Displacement disp = new Displacement("m", dm);
      f = new CsuLora(o, pen).correct(disp, w);
      double fs = (System.nanoTime() - t0) / 1e9;
      if (rep == 0) {
        factoredAlloc = allocated() - a0;
        factoredPeak = peak();
      }
      sub = disp.subspace(o);

      resetPeak();
      a0 = allocated();
      t0 = System.nanoTime();
      ref = DenseReference.csuLora(dm, w, o.energy, pen);
      double ds = (System.nanoTime() - t0) / 1e9;
      if (rep == 0) {
        denseAlloc = allocated() - a0;
        densePeak = peak();
      }
      factoredS = Math.min(factoredS, fs);
      denseS = Math.min(denseS, ds);
      times.append(String.format(Locale.ROOT, "%s factored %.2f s, dense %.2f s", rep == 0 ? "" : ";", fs, ds));
    }
    System.out.println("repetitions (interleaved):" + times);

    DenseMatrix got = Matrices.multiply(f.b(), f.a());
    Matrices.scale(w.scaling(), got);
    double agree = Matrices.relativeFrobeniusDiff(got, ref.truncated);
    System.out.printf(Locale.ROOT, "k = %d (dense %d), sketch %d columns, %d power iterations, residual %.1e%n",
        sub.k(), ref.k, sub.sketchColumns(), sub.iterations(), sub.residual());
    System.out.printf(Locale.ROOT, "best of %d: factored %.2f s, dense %.2f s: %.1fx faster%n", reps, factoredS, denseS,
        denseS / factoredS);
    System.out.printf(Locale.ROOT, "corrected update, factored vs dense: relative Frobenius difference %.1e%n", agree);
    System.out.printf(Locale.ROOT, "bytes allocated: factored %d MB, dense %d MB (%.1fx)%n", factoredAlloc >> 20,
        denseAlloc >> 20, (double) denseAlloc / factoredAlloc);
    System.out.printf(Locale.ROOT, "peak heap (incl. the %d MB of D and inputs): factored %d MB, dense %d MB%n",
        (8L * d * d) >> 20, factoredPeak >> 20, densePeak >> 20);

    // A collection: one subspace shared by N adapters, against recomputing it per adapter.
    LoraUpdate[] ws = new LoraUpdate[n];
    for (int i = 0; i < n; i++) {
      ws[i] = CorrectTesting.update(u0.columns(0, 16), v0.columns(0, 16), r, 0.5, new Random(100 + i));
    }
    long t0 = System.nanoTime();
    Displacement shared = new Displacement("m", dm);
    CsuLora method = new CsuLora(o, pen);
    for (LoraUpdate x : ws) {
      method.correct(shared, x);
    }
    double sharedS = (System.nanoTime() - t0) / 1e9;
    t0 = System.nanoTime();
    for (int i = 0; i < sample; i++) {
      new CsuLora(o, pen).correct(new Displacement("m", dm), ws[i]);
    }
    double oneByOneS = (System.nanoTime() - t0) / 1e9 * n / sample;
    System.out.printf(Locale.ROOT, "collection of %d adapters: shared subspace %.2f s (%d subspace), one by one "
        + "%.1f s (timed on %d, scaled): %.1fx faster%n", n, sharedS, shared.subspacesComputed(), oneByOneS, sample,
        oneByOneS / sharedS);
  }
}
