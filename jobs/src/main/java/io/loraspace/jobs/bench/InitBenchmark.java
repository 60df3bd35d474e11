package io.loraspace.jobs.bench;

import io.loraspace.common.error.StateException;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.OutputCovariance;
import io.loraspace.common.init.ScLora;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): one SC-LoRA module at LLM width. Per-sample output sums of D+ and D− (n_s each, planted
 * low-rank structure plus noise, as after a 256-sample statistics pass) give Cov± and ΔCov for β = 0.5; the top-r
 * eigenpairs are solved three ways on the same matrix, in one run: the full LAPACK {@code dsyevr} (all pairs), the
 * {@code dsyevr} index range (the init job's {@code eigensolver=full}), the block Lanczos solver ({@code partial},
 * capped at 40 restarts) and {@code auto}. Also times forming {@code W S Wᵀ} from the store's sample Gram, the other
 * per-module cost. Prints speed-ups and the largest principal-angle sine to the full solve.
 *
 * <p>Usage: {@code scripts/bench-init.sh [d] [r] [samples]} (default 4096, r = 8 and 128, 256).
 */
public final class InitBenchmark {
  private InitBenchmark() {}

  public static void main(String[] args) {
    int d = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int r = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int ns = args.length > 2 ? Integer.parseInt(args[2]) : 256;
    int[] ranks = r == 128 && args.length < 2 ? new int[] {8, 128} : new int[] {r};
    System.out.println("# SC-LoRA per-module solve, d = out = in = " + d + ", r = " + r + ", n_s = " + ns
        + " per dataset, beta = 0.5, r = " + java.util.Arrays.toString(ranks) + "; " + Blas.describe());
    SplittableRandom rnd = new SplittableRandom(7);
    DenseMatrix w = EigenBenchmark.gaussian(d, d, rnd);
    Matrices.scale(1.0 / Math.sqrt(d), w);
    DenseMatrix[] cov = new DenseMatrix[2];
    DenseMatrix sPlus = null;
    for (int set = 0; set < 2; set++) {
      // Per-sample input sums x̂ (d × n_s): 64 planted directions with decaying weights, plus isotropic noise.
      DenseMatrix basis = EigenBenchmark.gaussian(d, 64, rnd);
      DenseMatrix z = EigenBenchmark.gaussian(64, ns, rnd);
      for (int i = 0; i < 64; i++) {
        double s = 10 * Math.pow(0.93, i);
        for (int j = 0; j < ns; j++) {
          z.set(i, j, z.get(i, j) * s);
        }
      }
      DenseMatrix x = Matrices.multiply(basis, z);
      DenseMatrix noise = EigenBenchmark.gaussian(d, ns, rnd);
      Matrices.axpy(1.0, noise, x);
      DenseMatrix h = Matrices.multiply(w, x); // per-sample outputs (d × n_s)
      cov[set] = Matrices.multiply(h, false, h, true);
      Matrices.scale(1.0 / ns, cov[set]);
      if (set == 0) {
        sPlus = Matrices.multiply(x, false, x, true);
      }
    }
    long t0 = System.nanoTime();
    DenseMatrix viaStore = OutputCovariance.perSample(w, null, sPlus, null, 0, ns);
    double tCov = (System.nanoTime() - t0) / 1e9;
    System.out.printf("output covariance W S Wᵀ / n_s from the sample Gram: %.2f s (rel. diff to direct %.1e)%n",
        tCov, Matrices.relativeFrobeniusDiff(viaStore, cov[0]));
    DenseMatrix delta = ScLora.difference(cov[0], cov[1], 0.5);

    t0 = System.nanoTime();
    SymmetricEigen.Result full = SymmetricEigen.full(delta);
    double tFull = (System.nanoTime() - t0) / 1e9;
    System.out.printf("full dsyevr (all %d pairs):                 %7.2f s%n", d, tFull);
    for (int k : ranks) {
      DenseMatrix ref = full.vectors().columns(d - k, d);
      System.out.printf("r = %d: gap lambda_r / lambda_{r+1} = %.4g / %.4g (lambda_1 = %.4g)%n", k,
          full.values()[d - k], full.values()[d - k - 1], full.values()[d - 1]);
      t0 = System.nanoTime();
      SymmetricEigen.Result range = SymmetricEigen.top(delta, k);
      double tRange = (System.nanoTime() - t0) / 1e9;
      System.out.printf("  dsyevr index range (eigensolver=full):   %7.2f s  speed-up %5.1fx  sin(theta) %.1e%n",
          tRange, tFull / tRange, EigenBenchmark.sinAngle(ref, range.vectors()));
      t0 = System.nanoTime();
      try {
        PartialSymmetricEigen.Result part = PartialSymmetricEigen.solve(SymmetricOperator.of(delta), k,
            PartialSymmetricEigen.Which.LARGEST, null, PartialSymmetricEigen.Options.defaults().withMaxRestarts(40));
        double tPart = (System.nanoTime() - t0) / 1e9;
        System.out.printf("  block Lanczos (eigensolver=partial):     %7.2f s  speed-up %5.1fx  sin(theta) %.1e  "
            + "(%d restarts)%n", tPart, tFull / tPart, EigenBenchmark.sinAngle(ref, part.vectors()), part.restarts());
      } catch (StateException e) {
        System.out.printf("  block Lanczos (eigensolver=partial):     not converged in 40 restarts after %.2f s%n",
            (System.nanoTime() - t0) / 1e9);
      }
      t0 = System.nanoTime();
      EigenSolver.Solved auto = EigenSolver.AUTO.solve(delta, k);
      double tAuto = (System.nanoTime() - t0) / 1e9;
      System.out.printf("  eigensolver=auto (%s):%s %7.2f s  speed-up %5.1fx  sin(theta) %.1e%n", auto.solver,
          " ".repeat(Math.max(0, 20 - auto.solver.length())), tAuto, tFull / tAuto,
          EigenBenchmark.sinAngle(ref, auto.result.vectors()));
    }
  }
}
