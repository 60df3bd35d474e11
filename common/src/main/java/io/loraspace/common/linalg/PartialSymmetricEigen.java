package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.util.SplittableRandom;

/**
 * The k algebraically largest (or smallest) eigenpairs of a symmetric operator, for large d and small k, by a
 * thick-restarted block Lanczos method with full reorthogonalisation and Rayleigh–Ritz.
 *
 * <p>Why this method: only block products A·X are needed (dgemm/dsymm speed, implicit operators work), a Krylov
 * subspace of depth s converges much faster than subspace iteration for the same number of products, and Rayleigh–Ritz
 * on it yields both ends of the spectrum in algebraic order, so indefinite matrices (SC-LoRA's ΔCov) and the bottom
 * of the spectrum (LoRA-DA's Ω) need no shift. Full reorthogonalisation (CGS2) keeps the basis orthonormal to working
 * precision, so no ghost eigenvalues appear. Restarts keep the best {@code blockSize} Ritz vectors (thick restart),
 * which preserves what was learnt; a warm start (e.g. the basis of a neighbouring problem in leave-one-out PCA) enters
 * as the first block.
 *
 * <p>Convergence criterion: every wanted Ritz pair has residual {@code ‖A x − θ x‖ ≤ tol · ‖A‖}, with ‖A‖ estimated by
 * the largest |Ritz value| seen. Since the Rayleigh–Ritz error of the subspace is bounded by residual / gap, tol = 1e-10
 * gives subspaces accurate to about 1e-10 / relative gap. Past {@code maxRestarts} the solver throws a
 * {@link StateException} with the worst residual rather than returning unconverged vectors.
 *
 * <p>Limits: the convergence rate depends on the gap between the wanted and unwanted eigenvalues relative to the
 * spread of the whole spectrum. An end that is clustered relative to the spread (the bottom of a geometrically
 * decaying covariance, say, whose smallest eigenvalues differ by 1e-12·‖A‖) converges too slowly; use
 * {@link SymmetricEigen} there, or pose the problem on a shifted/inverted operator.
 */
public final class PartialSymmetricEigen {
  /** Which end of the spectrum. */
  public enum Which {
    LARGEST, SMALLEST
  }

  /** Immutable solver options. */
  public static final class Options {
    private final double tolerance;
    private final int maxRestarts;
    private final int extraBlock;
    private final int krylovBlocks;
    private final long seed;
    private final boolean giveUpEarly;

    public Options(double tolerance, int maxRestarts, int extraBlock, int krylovBlocks, long seed) {
      this(tolerance, maxRestarts, extraBlock, krylovBlocks, seed, false);
    }

    private Options(double tolerance, int maxRestarts, int extraBlock, int krylovBlocks, long seed,
        boolean giveUpEarly) {
      if (!(tolerance > 0) || maxRestarts < 1 || extraBlock < 0 || krylovBlocks < 2) {
        throw new ArgumentException("Partial eigensolver options: tolerance " + tolerance + " (> 0), maxRestarts "
            + maxRestarts + " (≥ 1), extraBlock " + extraBlock + " (≥ 0), krylovBlocks " + krylovBlocks + " (≥ 2)");
      }
      this.tolerance = tolerance;
      this.maxRestarts = maxRestarts;
      this.extraBlock = extraBlock;
      this.krylovBlocks = krylovBlocks;
      this.seed = seed;
      this.giveUpEarly = giveUpEarly;
    }

    /** tol 1e-10, 200 restarts, block k + max(4, min(k, 16)), 6 Krylov blocks per restart, fixed seed. */
    public static Options defaults() {
      return new Options(1e-10, 200, 16, 6, 0x5EEDL);
    }

    public Options withTolerance(double tol) {
      return new Options(tol, maxRestarts, extraBlock, krylovBlocks, seed, giveUpEarly);
    }

    public Options withMaxRestarts(int n) {
      return new Options(tolerance, n, extraBlock, krylovBlocks, seed, giveUpEarly);
    }

    public Options withKrylovBlocks(int s) {
      return new Options(tolerance, maxRestarts, extraBlock, s, seed, giveUpEarly);
    }

    /**
     * Stop as soon as the residual's rate of decrease projects past {@code maxRestarts} (from the second restart on:
     * the rate over the last restart, then the mean rate over the last two), for callers with a fallback: a run that
     * cannot converge in budget then costs two or three restarts, not the whole budget. The projection can be wrong
     * (Lanczos may stall, then speed up once the Krylov space resolves the gap); a caller that must have the partial
     * result should not ask for it.
     */
    public Options withEarlyGiveUp() {
      return new Options(tolerance, maxRestarts, extraBlock, krylovBlocks, seed, true);
    }

    public double tolerance() {
      return tolerance;
    }

    /** Operator columns one restart applies for k wanted pairs of a d-dimensional operator (Krylov space width). */
    public int columnsPerRestart(int d, int k) {
      return Math.min(d, krylovBlocks * blockSize(d, k));
    }

    /** Block size for k wanted pairs of a d-dimensional operator: k + max(4, min(k, extraBlock)), at most d. */
    int blockSize(int d, int k) {
      return Math.min(d, k + Math.max(4, Math.min(k, extraBlock)));
    }

    public int maxRestarts() {
      return maxRestarts;
    }
  }

  /** The converged pairs and what it cost. */
  public static final class Result {
    private final double[] values;
    private final DenseMatrix vectors;
    private final int restarts;
    private final long operatorColumns;
    private final double relativeResidual;
    private final double next;
    private final double nextResidual;

    Result(double[] values, DenseMatrix vectors, int restarts, long operatorColumns, double relativeResidual,
        double next, double nextResidual) {
      this.values = values;
      this.vectors = vectors;
      this.restarts = restarts;
      this.operatorColumns = operatorColumns;
      this.relativeResidual = relativeResidual;
      this.next = next;
      this.nextResidual = nextResidual;
    }

    /** Descending for LARGEST, ascending for SMALLEST. */
    public double[] values() {
      return values;
    }

    /** d×k, column i pairs with value i. */
    public DenseMatrix vectors() {
      return vectors;
    }

    public int restarts() {
      return restarts;
    }

    /** Number of vectors the operator was applied to (matvecs). */
    public long operatorColumns() {
      return operatorColumns;
    }

    /** Worst wanted residual / ‖A‖ estimate at exit. */
    public double relativeResidual() {
      return relativeResidual;
    }

    /**
     * The (k+1)-th Ritz value at exit (the best unwanted one), NaN when the search space held only k vectors. It is
     * not required to converge: for LARGEST it is a lower bound of λ_{k+1} (Cauchy interlacing), and an eigenvalue
     * lies within {@link #nextResidual()}·‖A‖ of it.
     */
    public double next() {
      return next;
    }

    /** Residual / ‖A‖ estimate of the (k+1)-th Ritz pair at exit, NaN with {@link #next()}. */
    public double nextResidual() {
      return nextResidual;
    }
  }

  private PartialSymmetricEigen() {}

  public static Result solve(DenseMatrix a, int k, Which which) {
    return solve(SymmetricOperator.of(a), k, which, null, Options.defaults());
  }

  /**
   * Computes the k wanted eigenpairs of {@code op}.
   *
   * @param warmStart optional d×w block whose span should be close to the wanted subspace (not modified); null for a
   *     random start
   */
  public static Result solve(SymmetricOperator op, int k, Which which, DenseMatrix warmStart, Options options) {
    int d = op.dim();
    if (k < 0 || k > d) {
      throw new ArgumentException("Requested " + k + " eigenpairs of an operator of dimension " + d);
    }
    if (k == 0) {
      return new Result(new double[0], DenseMatrix.zeros(d, 0), 0, 0, 0.0, Double.NaN, Double.NaN);
    }
    int b = options.blockSize(d, k);
    int s = options.krylovBlocks;
    SplittableRandom rnd = new SplittableRandom(options.seed);

    // Start block: warm start columns first, random columns after.
    DenseMatrix start = DenseMatrix.zeros(d, b);
    int w = 0;
    if (warmStart != null) {
      if (warmStart.rows() != d) {
        throw new ArgumentException("Warm start has " + warmStart.rows() + " rows, operator dimension is " + d);
      }
      w = Math.min(b, warmStart.cols());
      System.arraycopy(warmStart.data(), 0, start.data(), 0, d * w);
    }
    for (int i = d * w; i < d * b; i++) {
      start.data()[i] = rnd.nextGaussian();
    }
    DenseMatrix x = Orthonormalizer.orthonormalize(start, null, Orthonormalizer.DEFAULT_DROP_TOLERANCE);
    x = fill(x, b, d, rnd);
    DenseMatrix ax = null;
    long columns = 0;
    double normA = 0;
    double worst = Double.NaN;
    double[] history = new double[options.maxRestarts];
    for (int restart = 0; restart < options.maxRestarts; restart++) {
      // Krylov basis Q = [X, A X, A² X, ...] orthonormalised, with A·Q kept alongside.
      int maxCols = Math.min(d, s * b);
      DenseMatrix q = DenseMatrix.zeros(d, maxCols);
      DenseMatrix aq = DenseMatrix.zeros(d, maxCols);
      int m = 0;
      DenseMatrix block = x;
      DenseMatrix ablock = ax;
      while (block.cols() > 0) {
        int c = Math.min(block.cols(), maxCols - m);
        System.arraycopy(block.data(), 0, q.data(), m * d, c * d);
        DenseMatrix blk = c == block.cols() ? block : block.columns(0, c);
        if (ablock == null || ablock.cols() != c) {
          ablock = DenseMatrix.zeros(d, c);
          op.apply(blk, ablock);
          columns += c;
        }
        System.arraycopy(ablock.data(), 0, aq.data(), m * d, c * d);
        m += c;
        if (m >= maxCols) {
          break;
        }
        block = Orthonormalizer.orthonormalize(ablock, q.columns(0, m), Orthonormalizer.DEFAULT_DROP_TOLERANCE);
        ablock = null;
      }
      DenseMatrix qm = q.columns(0, m);
      DenseMatrix aqm = aq.columns(0, m);
      DenseMatrix h = Matrices.multiply(qm, true, aqm, false);
      for (int j = 0; j < m; j++) {
        for (int i = 0; i < j; i++) {
          double v = 0.5 * (h.get(i, j) + h.get(j, i));
          h.set(i, j, v);
          h.set(j, i, v);
        }
      }
      SymmetricEigen.Result ritz = SymmetricEigen.full(h);
      double[] theta = ritz.values();
      normA = Math.max(normA, Math.max(Math.abs(theta[0]), Math.abs(theta[m - 1])));
      // Order the Ritz pairs best-first for the wanted end.
      int keep = Math.min(b, m);
      DenseMatrix y = DenseMatrix.zeros(m, keep);
      double[] vals = new double[keep];
      for (int j = 0; j < keep; j++) {
        int src = which == Which.LARGEST ? m - 1 - j : j;
        vals[j] = theta[src];
        System.arraycopy(ritz.vectors().data(), src * m, y.data(), j * m, m);
      }
      DenseMatrix xn = Matrices.multiply(qm, y);
      DenseMatrix axn = Matrices.multiply(aqm, y);
      worst = 0;
      for (int j = 0; j < k; j++) {
        double r = 0;
        for (int i = 0; i < d; i++) {
          double e = axn.get(i, j) - vals[j] * xn.get(i, j);
          r += e * e;
        }
        worst = Math.max(worst, Math.sqrt(r));
      }
      double rel = normA == 0 ? 0 : worst / normA;
      if (rel <= options.tolerance || m == d) {
        double[] out = java.util.Arrays.copyOf(vals, k);
        double next = Double.NaN;
        double nextRes = Double.NaN;
        if (keep > k) {
          double r = 0;
          for (int i = 0; i < d; i++) {
            double e = axn.get(i, k) - vals[k] * xn.get(i, k);
            r += e * e;
          }
          next = vals[k];
          nextRes = normA == 0 ? 0 : Math.sqrt(r) / normA;
        }
        return new Result(out, xn.columns(0, k), restart, columns, rel, next, nextRes);
      }
      if (options.giveUpEarly) {
        history[restart] = rel;
        if (restart >= 1) {
          double rate = restart == 1 ? rel / history[0] : Math.sqrt(rel / history[restart - 2]);
          double more = rate < 1 ? Math.log(options.tolerance / rel) / Math.log(rate) : Double.POSITIVE_INFINITY;
          if (restart + 1 + more > options.maxRestarts) {
            throw new StateException("Partial eigensolver did not converge: relative residual " + rel + " after "
                + (restart + 1) + " restarts, falling by a factor " + rate + " per restart, projects past the "
                + options.maxRestarts + " allowed (tolerance " + options.tolerance + ", k = " + k + ", d = " + d + ", "
                + which + ")");
          }
        }
      }
      x = xn;
      ax = axn;
      if (x.cols() < b) {
        x = fill(x, b, d, rnd);
        ax = null;
      }
      worst = rel;
    }
    throw new StateException("Partial eigensolver did not converge in " + options.maxRestarts + " restarts: worst "
        + "relative residual " + worst + " > tolerance " + options.tolerance + " (k = " + k + ", d = " + d + ", "
        + which + ")");
  }

  /** Pads an orthonormal block with random orthonormal columns up to {@code b} (when deflation removed some). */
  private static DenseMatrix fill(DenseMatrix x, int b, int d, SplittableRandom rnd) {
    DenseMatrix cur = x;
    int guard = 0;
    while (cur.cols() < b && guard++ < 10) {
      DenseMatrix r = DenseMatrix.zeros(d, b - cur.cols());
      for (int i = 0; i < r.data().length; i++) {
        r.data()[i] = rnd.nextGaussian();
      }
      DenseMatrix add = Orthonormalizer.orthonormalize(r, cur, Orthonormalizer.DEFAULT_DROP_TOLERANCE);
      DenseMatrix merged = DenseMatrix.zeros(d, cur.cols() + add.cols());
      System.arraycopy(cur.data(), 0, merged.data(), 0, cur.data().length);
      System.arraycopy(add.data(), 0, merged.data(), cur.data().length, add.data().length);
      cur = merged;
    }
    return cur;
  }
}
