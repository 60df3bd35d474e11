package io.loraspace.jobs.bench;

import io.loraspace.common.init.Corda;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.InitFactors;
import io.loraspace.common.init.Pissa;
import io.loraspace.common.init.TripletInit;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.linalg.Subspaces;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Benchmark (not a test): one CorDA/PiSSA module at LLM width, the full-SVD route ({@code eigensolver=full}) against
 * {@code auto} (partial singular triplets, verified) on the same inputs, in one run. W is d×d Gaussian / √d (a random
 * init); C is the token Gram / samples of {@code tokens} activations with 64 planted directions of decaying weight
 * plus isotropic noise. Each route runs twice, alternated, and the faster of the two is kept; the update {@code s·B·A}
 * and the subspaces of B and Aᵀ are compared.
 *
 * <p>Usage: {@code scripts/bench-init.sh corda [d] [r] [tokens]} (default 2048, 8, 8192).
 */
public final class CordaBenchmark {
  private CordaBenchmark() {}

  public static void main(String[] args) {
    int d = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
    int r = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 8192;
    System.out.println("# CorDA / PiSSA per-module init, d = out = in = " + d + ", r = " + r + ", " + tokens
        + " tokens; " + Blas.describe());
    SplittableRandom rnd = new SplittableRandom(11);
    DenseMatrix w = EigenBenchmark.gaussian(d, d, rnd);
    Matrices.scale(1.0 / Math.sqrt(d), w);
    DenseMatrix basis = EigenBenchmark.gaussian(d, 64, rnd);
    DenseMatrix z = EigenBenchmark.gaussian(64, tokens, rnd);
    for (int i = 0; i < 64; i++) {
      for (int j = 0; j < tokens; j++) {
        z.set(i, j, z.get(i, j) * 10 * Math.pow(0.93, i));
      }
    }
    DenseMatrix x = Matrices.multiply(basis, z);
    Matrices.axpy(1.0, EigenBenchmark.gaussian(d, tokens, rnd), x);
    DenseMatrix c = DenseMatrix.zeros(d, d);
    Matrices.syrkUpper(1.0 / 64, x, 0.0, c);
    c.symmetrizeFromUpper();
    compare("CorDA IPA", () -> Corda.init(w, c, r, 2.0, Corda.Mode.IPA, EigenSolver.FULL).factors,
        () -> Corda.init(w, c, r, 2.0, Corda.Mode.IPA, EigenSolver.AUTO));
    compare("CorDA KPA", () -> Corda.init(w, c, r, 2.0, Corda.Mode.KPA, EigenSolver.FULL).factors,
        () -> Corda.init(w, c, r, 2.0, Corda.Mode.KPA, EigenSolver.AUTO));
    compare("PiSSA", () -> Pissa.init(w, r, 2.0, EigenSolver.FULL).factors,
        () -> Pissa.init(w, r, 2.0, EigenSolver.AUTO));
  }

  private static void compare(String name, Supplier<InitFactors> full, Supplier<Object> auto) {
    double tFull = Double.POSITIVE_INFINITY;
    double tAuto = Double.POSITIVE_INFINITY;
    InitFactors f = null;
    Object a = null;
    for (int round = 0; round < 2; round++) {
      long t0 = System.nanoTime();
      f = full.get();
      tFull = Math.min(tFull, (System.nanoTime() - t0) / 1e9);
      t0 = System.nanoTime();
      a = auto.get();
      tAuto = Math.min(tAuto, (System.nanoTime() - t0) / 1e9);
    }
    InitFactors af = a instanceof Corda.Result ? ((Corda.Result) a).factors : ((TripletInit) a).factors;
    String solver = a instanceof Corda.Result ? ((Corda.Result) a).solver : ((TripletInit) a).solver;
    double sin = Math.max(Subspaces.maxSinPrincipalAngle(Qr.of(f.b()).q(), Qr.of(af.b()).q()),
        Subspaces.maxSinPrincipalAngle(Qr.of(f.a().transpose()).q(), Qr.of(af.a().transpose()).q()));
    System.out.printf("%-10s full %7.2f s, auto (%s) %7.2f s: %5.1fx; update rel. diff %.1e, sin(theta) %.1e%n", name,
        tFull, solver, tAuto, tFull / tAuto, Matrices.relativeFrobeniusDiff(af.delta(), f.delta()), sin);
  }
}
