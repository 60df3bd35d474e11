package io.loraspace.jobs.bench;

import io.loraspace.common.error.StateException;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.LoraDa;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.Cholesky;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): one LoRA-DA module at LLM width. Token inputs with a decaying spectrum (n_tok tokens), output
 * gradients with a planted low-rank correlation to the inputs, as a 256-sample statistics pass gives them; then Ω
 * (K-FAC inverse, Fisher-gradient Δ, both terms) and its r smallest eigenpairs solved on the same matrix, in one run:
 * the full LAPACK {@code dsyevr} (all pairs), the {@code dsyevr} index range ({@code eigensolver=full}), block Lanczos
 * for the smallest pairs ({@code partial}, capped at 40 restarts) and {@code auto}. Prints speed-ups and the largest
 * principal-angle sine to the full solve. The formation, the full solve and {@code auto} are alternated and timed best of
 * 2; the formation is also timed as it was before {@code dpotri}/{@code dsyrk} ({@link #omegaAsBefore}).
 *
 * <p>Usage: {@code scripts/bench-init.sh lora-da [d] [r] [tokens]} (default 4096, 8, 8192; N = 100 000).
 */
public final class LoraDaBenchmark {
  private LoraDaBenchmark() {}

  public static void main(String[] args) {
    int d = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int r = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 8192;
    int samples = 256;
    System.out.println("# LoRA-DA per-module solve, d = out = in = " + d + ", r = " + r + ", " + tokens + " tokens in "
        + samples + " samples, N = 100000; " + Blas.describe());
    SplittableRandom rnd = new SplittableRandom(11);
    long t0 = System.nanoTime();
    DenseMatrix x = EigenBenchmark.gaussian(d, tokens, rnd);
    double[] xd = x.data();
    for (int j = 0; j < tokens; j++) {
      for (int i = 0; i < d; i++) {
        xd[i + j * d] *= 3.0 * Math.pow(0.999, i) + 0.05;
      }
    }
    DenseMatrix g = EigenBenchmark.gaussian(d, tokens, rnd);
    Matrices.scale(1e-3, g);
    // Planted: gradients correlated with inputs through a rank-32 map with singular values ~0.85^k.
    DenseMatrix left = EigenBenchmark.gaussian(d, 32, rnd);
    for (int k = 0; k < 32; k++) {
      double f = Math.pow(0.85, k); // decaying singular values of the planted map
      for (int i = 0; i < d; i++) {
        left.set(i, k, left.get(i, k) * f);
      }
    }
    DenseMatrix right = EigenBenchmark.gaussian(32, d, rnd);
    DenseMatrix map = Matrices.multiply(left, right);
    Matrices.multiply(2e-6, map, false, x, false, 1.0, g);
    DenseMatrix gram = Matrices.multiply(x, false, x, true);
    DenseMatrix cross = Matrices.multiply(g, false, x, true);
    double[] sq = new double[d];
    double[] gd = g.data();
    for (int j = 0; j < tokens; j++) {
      for (int i = 0; i < d; i++) {
        sq[i] += gd[i + j * d] * gd[i + j * d];
      }
    }
    x = null;
    g = null;
    System.out.printf("statistics built in %.1f s (not timed below)%n", (System.nanoTime() - t0) / 1e9);
    LoraDa.Statistics st = new LoraDa.Statistics(gram, tokens, cross, sq, tokens, samples);
    LoraDa.Options o = new LoraDa.Options();
    o.n = 100_000;
    // Formation and the two solves that matter, alternated and best of 2, so that a load change on a shared machine
    // does not land on one side only.
    double tQ = Double.MAX_VALUE;
    double tQBefore = Double.MAX_VALUE;
    double tFull = Double.MAX_VALUE;
    double tAuto = Double.MAX_VALUE;
    LoraDa.Quantities q = null;
    DenseMatrix omegaBefore = null;
    SymmetricEigen.Result full = null;
    EigenSolver.Solved auto = null;
    for (int rep = 0; rep < 2; rep++) {
      t0 = System.nanoTime();
      omegaBefore = omegaAsBefore(st, o);
      tQBefore = Math.min(tQBefore, (System.nanoTime() - t0) / 1e9);
      omegaBefore = rep == 0 ? null : omegaBefore;
      q = null;
      t0 = System.nanoTime();
      q = LoraDa.quantities("bench", st, o);
      tQ = Math.min(tQ, (System.nanoTime() - t0) / 1e9);
      full = null;
      t0 = System.nanoTime();
      full = SymmetricEigen.full(q.omega);
      tFull = Math.min(tFull, (System.nanoTime() - t0) / 1e9);
      t0 = System.nanoTime();
      auto = EigenSolver.AUTO.solveBottom(q.omega, r);
      tAuto = Math.min(tAuto, (System.nanoTime() - t0) / 1e9);
    }
    DenseMatrix omega = q.omega;
    System.out.printf("K-FAC inverse, Δ and Ω formation:          %7.2f s  (as before, dpotrs against I and dgemm "
        + "ΔΔᵀ: %.2f s -> %.2fx faster; Ω rel. diff %.1e)%n", tQ, tQBefore, tQBefore / tQ,
        Matrices.relativeFrobeniusDiff(omega, omegaBefore));
    System.out.printf("full dsyevr (all %d pairs):                 %7.2f s%n", d, tFull);
    DenseMatrix ref = full.vectors().columns(0, r);
    System.out.printf("bottom gap lambda_r / lambda_{r+1} = %.4g / %.4g (lambda_1 = %.4g, lambda_max = %.4g)%n",
        full.values()[r - 1], full.values()[r], full.values()[0], full.values()[d - 1]);
    System.out.printf("  eigensolver=auto (%s):%s %7.2f s  speed-up %5.1fx  sin(theta) %.1e   <- target >= 5x%n",
        auto.solver, " ".repeat(Math.max(0, 20 - auto.solver.length())), tAuto, tFull / tAuto,
        EigenBenchmark.sinAngle(ref, auto.result.vectors()));
    System.out.printf("  whole module (formation + solve): auto %.2f s vs full %.2f s -> %.2fx%n", tQ + tAuto,
        tQ + tFull, (tQ + tFull) / (tQ + tAuto));
    t0 = System.nanoTime();
    SymmetricEigen.Result range = SymmetricEigen.bottom(omega, r);
    double tRange = (System.nanoTime() - t0) / 1e9;
    System.out.printf("  dsyevr index range (eigensolver=full):   %7.2f s  speed-up %5.1fx  sin(theta) %.1e%n",
        tRange, tFull / tRange, EigenBenchmark.sinAngle(ref, range.vectors()));
    t0 = System.nanoTime();
    try {
      PartialSymmetricEigen.Result part = PartialSymmetricEigen.solve(SymmetricOperator.of(omega), r,
          PartialSymmetricEigen.Which.SMALLEST, null, PartialSymmetricEigen.Options.defaults().withMaxRestarts(40));
      double tPart = (System.nanoTime() - t0) / 1e9;
      System.out.printf("  block Lanczos, smallest (partial):       %7.2f s  speed-up %5.1fx  sin(theta) %.1e  "
          + "(%d restarts)%n", tPart, tFull / tPart, EigenBenchmark.sinAngle(ref, part.vectors()), part.restarts());
    } catch (StateException e) {
      System.out.printf("  block Lanczos, smallest (partial):       not converged in 40 restarts after %.2f s%n",
          (System.nanoTime() - t0) / 1e9);
    }
    for (int blocks : new int[] {10, 16}) {
      t0 = System.nanoTime();
      try {
        PartialSymmetricEigen.Result part = PartialSymmetricEigen.solve(SymmetricOperator.of(omega), r,
            PartialSymmetricEigen.Which.SMALLEST, null,
            PartialSymmetricEigen.Options.defaults().withMaxRestarts(40).withKrylovBlocks(blocks));
        double tPart = (System.nanoTime() - t0) / 1e9;
        System.out.printf("  block Lanczos, %2d Krylov blocks:         %7.2f s  speed-up %5.1fx  sin(theta) %.1e  "
            + "(%d restarts)%n", blocks, tPart, tFull / tPart, EigenBenchmark.sinAngle(ref, part.vectors()),
            part.restarts());
      } catch (StateException e) {
        System.out.printf("  block Lanczos, %2d Krylov blocks:         not converged%n", blocks);
      }
    }
  }

  /**
   * Ω as {@code LoraDa.quantities} formed it before (the reference of the formation line): Z⁻¹ by solving against
   * the identity (dpotrs, 2d³ flops) and ΔΔᵀ by dgemm (2d³); paper options (both terms, Fisher displacement).
   */
  static DenseMatrix omegaAsBefore(LoraDa.Statistics st, LoraDa.Options o) {
    int out = st.gradInputCross.rows();
    int in = st.gradInputCross.cols();
    double[] y = new double[out];
    double mean = 0;
    for (int i = 0; i < out; i++) {
      y[i] = st.gradSqSum[i] / st.gradTokens;
      mean += y[i] / out;
    }
    for (int i = 0; i < out; i++) {
      y[i] += o.yDamping * mean;
    }
    DenseMatrix z = st.tokenGram.copy();
    Matrices.scale(1.0 / st.tokens, z);
    Cholesky chol = Cholesky.factor(z, o.zDamping * Matrices.trace(z) / in);
    DenseMatrix zInverse = chol.solve(DenseMatrix.identity(in));
    DenseMatrix gt = st.meanGradient().transpose();
    double[] g = gt.data();
    for (int j = 0; j < out; j++) {
      for (int i = 0; i < in; i++) {
        g[i + j * in] /= y[j];
      }
    }
    DenseMatrix delta = chol.solve(gt);
    Matrices.scale(-1.0, delta);
    double sumInvY = 0;
    for (double v : y) {
      sumInvY += 1.0 / v;
    }
    DenseMatrix omega = DenseMatrix.zeros(in, in);
    Matrices.axpy(o.varianceWeight * sumInvY / o.n, zInverse, omega);
    Matrices.multiply(-o.biasWeight, delta, false, delta, true, 1.0, omega);
    omega.symmetrizeFromUpper();
    return omega;
  }
}
