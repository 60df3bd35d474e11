package io.loraspace.common.recycle;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.PartialSymmetricEigen;
import io.loraspace.common.linalg.SymmetricEigen;
import io.loraspace.common.linalg.SymmetricOperator;
import java.util.Arrays;
import java.util.Random;

/**
 * EigenLoRAx principal components of one (module, factor) over a collection of adapters (seed 001; METHODS.md): the
 * vectors (rows of every {@code A_i}, columns of every {@code s_i·B_i}) are the columns of {@code M} (d × n); with
 * {@code G = M Mᵀ}, {@code σ = M·1}, the centred scatter is {@code C = G − σ σᵀ / n} (or {@code G} uncentred, the
 * official code's projection); the components are its top-K eigenvectors. Only G, σ and n are needed, so the fit
 * works from accumulated totals, and leave-one-out folds are exact downdates of them.
 */
public final class AdapterPca {
  private AdapterPca() {}

  /** How K is chosen and what is subtracted. */
  public static final class Options implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Fixed K (&gt; 0), or 0 to choose the smallest K whose explained-variance ratio reaches {@link #threshold}. */
    public int components;
    public double threshold = 0.9;
    public boolean center = true;
    /** Pseudo-PCs appended after the K components (Gaussian, Gram–Schmidt twice against all current PCs). */
    public int pseudo;
    public long seed = 0x5EEDL;

    public void validate() {
      if (components < 0) {
        throw new ArgumentException("Option 'components' is " + components + ", expected ≥ 0 (0: by threshold)");
      }
      if (components == 0 && !(threshold > 0 && threshold <= 1)) {
        throw new ArgumentException("Option 'threshold' is " + threshold + ", expected a value in (0, 1]");
      }
      if (pseudo < 0) {
        throw new ArgumentException("Option 'pseudo-components' is " + pseudo + ", expected ≥ 0");
      }
    }
  }

  /** Totals of the vectors of one (module, factor): G (upper triangle and lower filled), σ, n. */
  public static final class Totals {
    public final DenseMatrix gram;
    public final double[] sum;
    public long count;

    public Totals(int d) {
      this.gram = DenseMatrix.zeros(d, d);
      this.sum = new double[d];
    }

    public int dim() {
      return sum.length;
    }

    /** Adds the columns of {@code vectors} (d × r). */
    public void add(DenseMatrix vectors) {
      if (vectors.rows() != dim()) {
        throw new ArgumentException("Vectors of dim " + vectors.rows() + " added to totals of dim " + dim());
      }
      Matrices.multiply(1.0, vectors, false, vectors, true, 1.0, gram);
      for (int j = 0; j < vectors.cols(); j++) {
        for (int i = 0; i < dim(); i++) {
          sum[i] += vectors.get(i, j);
        }
      }
      count += vectors.cols();
    }
  }

  /** A fitted basis. */
  public static final class Basis {
    /** d × (K + pseudo), orthonormal columns; the first K are principal components in descending order. */
    public final DenseMatrix components;
    public final int principal;
    /** The mean subtracted before projecting (zeros when uncentred). */
    public final double[] mean;
    /** Eigenvalues of the scatter for the K principal components, descending. */
    public final double[] eigenvalues;
    /** Trace of the scatter: the total variance the ratios refer to. */
    public final double total;
    /** The whole spectrum when it was computed (threshold mode), else null. */
    public final double[] spectrum;

    Basis(DenseMatrix components, int principal, double[] mean, double[] eigenvalues, double total,
        double[] spectrum) {
      this.components = components;
      this.principal = principal;
      this.mean = mean;
      this.eigenvalues = eigenvalues;
      this.total = total;
      this.spectrum = spectrum;
    }

    /** A stored basis (components d × K, mean) for projecting and reconstructing; no spectrum. */
    public static Basis of(DenseMatrix components, double[] mean) {
      if (components.rows() != mean.length) {
        throw new ArgumentException("Basis components are " + components.shapeString() + " but the mean has "
            + mean.length + " entries");
      }
      return new Basis(components, components.cols(), mean, new double[0], 0, null);
    }

    public int size() {
      return components.cols();
    }

    /** Explained-variance ratio of each principal component. */
    public double[] ratios() {
      double[] r = new double[eigenvalues.length];
      for (int i = 0; i < r.length; i++) {
        r[i] = total > 0 ? eigenvalues[i] / total : 0;
      }
      return r;
    }

    /** Loadings {@code Vᵀ (w − μ)} of the columns of {@code w} (d × r): (K + pseudo) × r. */
    public DenseMatrix loadings(DenseMatrix w) {
      return Matrices.multiply(components, true, centred(w), false);
    }

    /** {@code μ + V Vᵀ (w − μ)} for the columns of w. */
    public DenseMatrix reconstruct(DenseMatrix w) {
      DenseMatrix rec = Matrices.multiply(components, loadings(w));
      for (int j = 0; j < rec.cols(); j++) {
        for (int i = 0; i < rec.rows(); i++) {
          rec.add(i, j, mean[i]);
        }
      }
      return rec;
    }

    /** {@code ‖w − reconstruct(w)‖_F / ‖w‖_F} (0 for w = 0). */
    public double relativeError(DenseMatrix w) {
      double norm = w.frobeniusNorm();
      if (norm == 0) {
        return 0;
      }
      DenseMatrix c = centred(w);
      DenseMatrix l = Matrices.multiply(components, true, c, false);
      Matrices.multiply(-1.0, components, false, l, false, 1.0, c);
      return c.frobeniusNorm() / norm;
    }

    private DenseMatrix centred(DenseMatrix w) {
      if (w.rows() != mean.length) {
        throw new ArgumentException("Vectors of dim " + w.rows() + " projected on a basis of dim " + mean.length);
      }
      DenseMatrix c = w.copy();
      for (int j = 0; j < c.cols(); j++) {
        for (int i = 0; i < c.rows(); i++) {
          c.add(i, j, -mean[i]);
        }
      }
      return c;
    }
  }

  /** The scatter matrix C of the totals (a new matrix). */
  public static DenseMatrix scatter(Totals t, boolean center) {
    DenseMatrix c = t.gram.copy();
    if (center && t.count > 0) {
      int d = t.dim();
      for (int j = 0; j < d; j++) {
        for (int i = 0; i < d; i++) {
          c.add(i, j, -t.sum[i] * t.sum[j] / t.count);
        }
      }
    }
    return c;
  }

  private static double[] meanOf(double[] sum, long count, boolean center) {
    double[] m = new double[sum.length];
    if (center && count > 0) {
      for (int i = 0; i < m.length; i++) {
        m[i] = sum[i] / count;
      }
    }
    return m;
  }

  /** Fits the basis from totals: the full spectrum by {@code dsyevr} (threshold mode) or the top K. */
  public static Basis fit(Totals t, Options o, String what) {
    return fit(t, o, what, null);
  }

  /**
   * Like {@link #fit(Totals, Options, String)}, taking the components from {@code e} (the full eigendecomposition of
   * the same totals, as leave-one-out needs it anyway) instead of solving again; e may be null.
   */
  public static Basis fit(Totals t, Options o, String what, Eigenbasis e) {
    o.validate();
    int d = t.dim();
    long n = t.count;
    if (n < 1) {
      throw new ArgumentException(what + ": no vectors (empty collection)");
    }
    long maxK = Math.min(d, o.center ? n - 1 : n);
    if (o.components > maxK) {
      throw new ArgumentException(what + ": K = " + o.components + " components requested but only " + maxK
          + " are defined (" + n + " vectors of dim " + d + (o.center ? ", centred" : "") + ")");
    }
    if (e != null && e.center != o.center) {
      throw new ArgumentException(what + ": eigenbasis and options disagree on centring");
    }
    DenseMatrix c = e == null ? scatter(t, o.center) : null;
    double total = e == null ? Matrices.trace(c) : 0;
    if (e != null) {
      for (double x : e.values) {
        total += x;
      }
    }
    int k;
    DenseMatrix v;
    double[] values;
    double[] spectrum = null;
    if (e != null && o.components > 0) {
      k = o.components;
      v = e.q.columns(0, k);
      values = Arrays.copyOf(e.values, k);
      spectrum = e.values;
    } else if (o.components > 0) {
      SymmetricEigen.Result top = SymmetricEigen.top(c, o.components);
      k = o.components;
      v = top.vectors();
      values = top.values();
    } else {
      SymmetricEigen.Result all = e != null ? new SymmetricEigen.Result(e.values, e.q)
          : SymmetricEigen.full(c).descending();
      spectrum = all.values();
      double cum = 0;
      k = 0;
      while (k < maxK) {
        cum += Math.max(0, spectrum[k]);
        k++;
        if (cum >= o.threshold * total) {
          break;
        }
      }
      k = Math.max(1, k);
      v = all.vectors().columns(0, k);
      values = Arrays.copyOf(spectrum, k);
    }
    Matrices.canonicalSigns(v);
    DenseMatrix comps = o.pseudo > 0 ? withPseudo(v, o.pseudo, o.seed) : v;
    return new Basis(comps, k, meanOf(t.sum, n, o.center), values, total, spectrum);
  }

  /**
   * Leave-one-out fold: the top-K basis of the totals without the vectors {@code removed} (d × r_i), by an exact
   * downdate {@code G − M_i M_iᵀ}, {@code σ − M_i 1}, {@code n − r_i} applied as an implicit operator (G is shared,
   * never copied), solved by block Lanczos warm-started from {@code warm} (the full-data components).
   */
  public static Basis fold(Totals t, DenseMatrix removed, int k, boolean center, DenseMatrix warm,
      PartialSymmetricEigen.Options solver) {
    int d = t.dim();
    long n = t.count - removed.cols();
    if (n < (center ? 2 : 1)) {
      throw new ArgumentException("Leave-one-out needs at least 2 adapters: without this one " + n
          + " vectors remain");
    }
    double[] s = t.sum.clone();
    for (int j = 0; j < removed.cols(); j++) {
      for (int i = 0; i < d; i++) {
        s[i] -= removed.get(i, j);
      }
    }
    double[] mean = meanOf(s, n, center);
    SymmetricOperator gram = SymmetricOperator.of(t.gram);
    DenseMatrix sv = DenseMatrix.wrap(d, 1, s);
    double invN = 1.0 / n;
    SymmetricOperator op = new SymmetricOperator() {
      @Override
      public int dim() {
        return d;
      }

      @Override
      public void apply(DenseMatrix x, DenseMatrix out) {
        gram.apply(x, out);
        DenseMatrix mx = Matrices.multiply(removed, true, x, false);
        Matrices.multiply(-1.0, removed, false, mx, false, 1.0, out);
        if (center) {
          DenseMatrix sx = Matrices.multiply(sv, true, x, false);
          Matrices.multiply(-invN, sv, false, sx, false, 1.0, out);
        }
      }
    };
    PartialSymmetricEigen.Result r = PartialSymmetricEigen.solve(op, k, PartialSymmetricEigen.Which.LARGEST, warm,
        solver);
    double total = Matrices.trace(t.gram);
    for (int j = 0; j < removed.cols(); j++) {
      for (int i = 0; i < d; i++) {
        total -= removed.get(i, j) * removed.get(i, j);
      }
    }
    if (center) {
      for (int i = 0; i < d; i++) {
        total -= s[i] * s[i] * invN;
      }
    }
    return new Basis(r.vectors(), k, mean, r.values(), total, null);
  }

  /**
   * The full eigendecomposition of the full-data scatter, the starting point of fast leave-one-out: in its eigenbasis
   * Q every fold's scatter is {@code Λ + s sᵀ/n − m mᵀ − s_i s_iᵀ/n_i} (s = Qᵀσ, m = Qᵀ M_i), diagonal plus rank
   * r_i + 2, so a fold costs one product {@code Qᵀ M_i} (d²·r_i) and a Lanczos solve whose operator costs
   * O(d·(r_i + 2)) per vector instead of O(d²).
   */
  public static final class Eigenbasis {
    /** Eigenvectors (d×d), columns in descending order of eigenvalue. */
    public final DenseMatrix q;
    public final double[] values;
    public final double[] sum;
    public final long count;
    public final boolean center;

    /** Qᵀσ, the same for every fold (computed once). */
    final double[] qtSum;

    public Eigenbasis(DenseMatrix q, double[] values, double[] sum, long count, boolean center) {
      this.q = q;
      this.values = values;
      this.sum = sum;
      this.count = count;
      this.center = center;
      this.qtSum = center ? Matrices.multiply(q, true, DenseMatrix.wrap(sum.length, 1, sum), false).data()
          : new double[sum.length];
    }
  }

  public static Eigenbasis eigenbasis(Totals t, boolean center) {
    SymmetricEigen.Result all = SymmetricEigen.full(scatter(t, center)).descending();
    return new Eigenbasis(all.vectors(), all.values(), t.sum.clone(), t.count, center);
  }

  /**
   * Lanczos options for folds: the warm start is nearly the answer, so a small block (K + 4) and three Krylov blocks
   * per restart (restarting when needed) cost least; tolerance as the default.
   */
  public static final PartialSymmetricEigen.Options FOLD_SOLVER = new PartialSymmetricEigen.Options(1e-10, 200, 4, 3,
      0x5EEDL);

  /** One leave-one-out fold computed in the eigenbasis. */
  public static final class Fold {
    /** ‖W_i − recon‖_F / ‖W_i‖_F of the removed vectors with the fold's mean and top-K components. */
    public final double heldOutError;
    public final double[] eigenvalues;
    /** The fold's components in the original coordinates (d×K), or null when not asked for. */
    public final DenseMatrix components;
    public final int restarts;

    Fold(double heldOutError, double[] eigenvalues, DenseMatrix components, int restarts) {
      this.heldOutError = heldOutError;
      this.eigenvalues = eigenvalues;
      this.components = components;
      this.restarts = restarts;
    }
  }

  /**
   * Leave-one-out fold by the exact downdate in the eigenbasis: removes the vectors {@code removed} (d × r_i),
   * solves the fold's top K by block Lanczos warm-started from the full-data top K (the first K unit vectors of the
   * eigenbasis), and measures the removed adapter's held-out error without leaving the eigenbasis.
   */
  public static Fold foldInEigenbasis(Eigenbasis e, DenseMatrix removed, int k,
      PartialSymmetricEigen.Options solver, boolean wantComponents) {
    int d = e.q.rows();
    int r = removed.cols();
    long n = e.count - r;
    if (n < (e.center ? 2 : 1)) {
      throw new ArgumentException("Leave-one-out needs at least 2 adapters: without this one " + n
          + " vectors remain");
    }
    DenseMatrix m = Matrices.multiply(e.q, true, removed, false); // Qᵀ M_i (d × r)
    double[] s = new double[d];
    double[] si = new double[d];
    if (e.center) {
      double[] sq = e.qtSum;
      for (int i = 0; i < d; i++) {
        s[i] = sq[i];
        double sub = 0;
        for (int j = 0; j < r; j++) {
          sub += m.get(i, j);
        }
        si[i] = sq[i] - sub;
      }
    }
    DenseMatrix sv = DenseMatrix.wrap(d, 1, s);
    DenseMatrix siv = DenseMatrix.wrap(d, 1, si);
    double invN = e.center ? 1.0 / e.count : 0;
    double invNi = e.center ? 1.0 / n : 0;
    double[] lambda = e.values;
    SymmetricOperator op = new SymmetricOperator() {
      @Override
      public int dim() {
        return d;
      }

      @Override
      public void apply(DenseMatrix x, DenseMatrix out) {
        int b = x.cols();
        double[] xd = x.data();
        double[] od = out.data();
        for (int j = 0; j < b; j++) {
          for (int i = 0; i < d; i++) {
            od[i + j * d] = lambda[i] * xd[i + j * d];
          }
        }
        DenseMatrix mx = Matrices.multiply(m, true, x, false);
        Matrices.multiply(-1.0, m, false, mx, false, 1.0, out);
        if (e.center) {
          DenseMatrix sx = Matrices.multiply(sv, true, x, false);
          Matrices.multiply(invN, sv, false, sx, false, 1.0, out);
          DenseMatrix six = Matrices.multiply(siv, true, x, false);
          Matrices.multiply(-invNi, siv, false, six, false, 1.0, out);
        }
      }
    };
    DenseMatrix warm = DenseMatrix.zeros(d, k);
    for (int j = 0; j < k; j++) {
      warm.set(j, j, 1.0);
    }
    PartialSymmetricEigen.Result res = PartialSymmetricEigen.solve(op, k, PartialSymmetricEigen.Which.LARGEST, warm,
        solver);
    DenseMatrix y = res.vectors(); // d × K in the eigenbasis
    // Held-out error: c = Qᵀ(w − μ_i) = m − s_i/n_i per column; residual c − Y Yᵀ c; ‖w‖ from the original.
    DenseMatrix c = m.copy();
    if (e.center) {
      for (int j = 0; j < r; j++) {
        for (int i = 0; i < d; i++) {
          c.add(i, j, -si[i] * invNi);
        }
      }
    }
    DenseMatrix yc = Matrices.multiply(y, true, c, false);
    Matrices.multiply(-1.0, y, false, yc, false, 1.0, c);
    double norm = removed.frobeniusNorm();
    double err = norm == 0 ? 0 : c.frobeniusNorm() / norm;
    DenseMatrix comps = wantComponents ? Matrices.multiply(e.q, y) : null;
    return new Fold(err, res.values(), comps, res.restarts());
  }

  /** Appends p Gaussian vectors orthogonalised (twice) against all current columns; null ones are dropped. */
  static DenseMatrix withPseudo(DenseMatrix v, int p, long seed) {
    int d = v.rows();
    Random rnd = new Random(seed);
    java.util.List<double[]> cols = new java.util.ArrayList<>();
    for (int j = 0; j < v.cols(); j++) {
      cols.add(v.column(j));
    }
    for (int added = 0; added < p; added++) {
      double[] g = new double[d];
      for (int i = 0; i < d; i++) {
        g[i] = rnd.nextGaussian();
      }
      double before = norm(g);
      for (int pass = 0; pass < 2; pass++) {
        for (double[] c : cols) {
          double dot = 0;
          for (int i = 0; i < d; i++) {
            dot += c[i] * g[i];
          }
          for (int i = 0; i < d; i++) {
            g[i] -= dot * c[i];
          }
        }
      }
      double nrm = norm(g);
      if (nrm <= 1e-10 * before) {
        continue; // the PCs already span everything
      }
      for (int i = 0; i < d; i++) {
        g[i] /= nrm;
      }
      cols.add(g);
    }
    DenseMatrix out = DenseMatrix.zeros(d, cols.size());
    for (int j = 0; j < cols.size(); j++) {
      System.arraycopy(cols.get(j), 0, out.data(), j * d, d);
    }
    return out;
  }

  private static double norm(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    return Math.sqrt(s);
  }
}
