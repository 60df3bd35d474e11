package io.loraspace.common.recycle;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.SymmetricEigen;
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
    /** The whole spectrum when it was computed (threshold mode, or from an eigenbasis), else null. */
    public final double[] spectrum;
    /**
     * Relative gap at K, {@code (λ_K − λ_{K+1}) / λ_1} (negative λ_{K+1} read as 0; 0 for a zero scatter; NaN when
     * K = d or for a stored basis): below ~1e-3 the K-th component is not determined by data stored in BF16/F16.
     */
    public final double gap;

    Basis(DenseMatrix components, int principal, double[] mean, double[] eigenvalues, double total,
        double[] spectrum, double gap) {
      this.components = components;
      this.principal = principal;
      this.mean = mean;
      this.eigenvalues = eigenvalues;
      this.total = total;
      this.spectrum = spectrum;
      this.gap = gap;
    }

    /** A stored basis (components d × K, mean) for projecting and reconstructing; no spectrum. */
    public static Basis of(DenseMatrix components, double[] mean) {
      if (components.rows() != mean.length) {
        throw new ArgumentException("Basis components are " + components.shapeString() + " but the mean has "
            + mean.length + " entries");
      }
      return new Basis(components, components.cols(), mean, new double[0], 0, null, Double.NaN);
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
    double gap;
    if (e != null && o.components > 0) {
      k = o.components;
      v = e.q.columns(0, k);
      values = Arrays.copyOf(e.values, k);
      spectrum = e.values;
      gap = k < d ? LeaveOneOutPca.relativeGap(spectrum[0], spectrum[k - 1], spectrum[k]) : Double.NaN;
    } else if (o.components > 0) {
      k = o.components;
      SymmetricEigen.Result top = SymmetricEigen.top(c, Math.min(d, k + 1)); // λ_{K+1} for the gap
      v = top.vectors().columns(0, k);
      values = Arrays.copyOf(top.values(), k);
      gap = k < d ? LeaveOneOutPca.relativeGap(top.values()[0], top.values()[k - 1], top.values()[k]) : Double.NaN;
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
      gap = k < d ? LeaveOneOutPca.relativeGap(spectrum[0], spectrum[k - 1], spectrum[k]) : Double.NaN;
    }
    Matrices.canonicalSigns(v);
    DenseMatrix comps = o.pseudo > 0 ? withPseudo(v, o.pseudo, o.seed) : v;
    return new Basis(comps, k, meanOf(t.sum, n, o.center), values, total, spectrum, gap);
  }

  /**
   * The full eigendecomposition of the full-data scatter, the starting point of fast leave-one-out: in its eigenbasis
   * Q every fold's scatter is {@code Λ + s sᵀ/n − m mᵀ − s_i s_iᵀ/n_i} (s = Qᵀσ, m = Qᵀ M_i), diagonal plus rank
   * r_i + 2, so a fold costs one product {@code Qᵀ M_i} (d²·r_i) and a Lanczos solve whose operator costs
   * O(d·(r_i + 2)) per vector instead of O(d²) ({@link LeaveOneOutPca}).
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
