package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import java.io.Serializable;

/**
 * A linear head split into components (METHODS.md, "Merging and forgetting"): component 0 is the pre-trained
 * {@code W_pre} (K×d), component i ≥ 1 is adapter i's update {@code ΔW_i = s_i B_i A_i} kept in factored form. A
 * merged head with coefficients {@code c} (length N+1) is {@code Σ_c c_c·component_c}; the theory's
 * {@code W(α) = W_pre + Σ α_i ΔW_i} is {@code c = (1, α)}.
 *
 * <p>{@link #project} gives every component's logits of one feature vector, so that the logits of any merged head are
 * a (N+1)-term combination: a data pass projects once and evaluates any number of coefficient vectors.
 * All arrays are row-major; instances are immutable after construction and serializable (they ship to executors).
 */
public final class HeadDecomposition implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int classes;
  private final int dim;
  private final double[] head;
  private final double[] scaling;
  private final int[] ranks;
  private final double[][] a;
  private final double[][] b;
  private final int maxRank;

  /**
   * @param head K×d pre-trained weights
   * @param scalings s_i of each adapter (PEFT: alpha/r or alpha/sqrt(r))
   * @param as A_i, r_i×d each
   * @param bs B_i, K×r_i each
   */
  public HeadDecomposition(DenseMatrix head, double[] scalings, DenseMatrix[] as, DenseMatrix[] bs) {
    if (head.rows() < 2) {
      throw new ArgumentException("Head has shape " + head.shapeString() + ": a margin needs at least 2 classes (rows)");
    }
    if (scalings.length != as.length || as.length != bs.length) {
      throw new ArgumentException(scalings.length + " scalings, " + as.length + " A and " + bs.length
          + " B factors: expected one of each per adapter");
    }
    this.classes = head.rows();
    this.dim = head.cols();
    this.head = head.toRowMajor();
    int n = as.length;
    this.scaling = scalings.clone();
    this.ranks = new int[n];
    this.a = new double[n][];
    this.b = new double[n][];
    int mr = 0;
    for (int i = 0; i < n; i++) {
      if (as[i].cols() != dim || bs[i].rows() != classes || as[i].rows() != bs[i].cols()) {
        throw new ArgumentException("Adapter " + (i + 1) + " has A " + as[i].shapeString() + " and B "
            + bs[i].shapeString() + ", expected A [r, " + dim + "] and B [" + classes + ", r] for a head of shape "
            + head.shapeString());
      }
      if (!Double.isFinite(scalings[i])) {
        throw new ArgumentException("Adapter " + (i + 1) + " has scaling " + scalings[i] + ", expected a finite value");
      }
      ranks[i] = as[i].rows();
      a[i] = as[i].toRowMajor();
      b[i] = bs[i].toRowMajor();
      mr = Math.max(mr, ranks[i]);
    }
    this.maxRank = mr;
  }

  /** K, the number of classes (rows of the head). */
  public int classes() {
    return classes;
  }

  /** d, the feature dimension (columns of the head). */
  public int dim() {
    return dim;
  }

  /** N+1: the pre-trained head and one component per adapter. */
  public int components() {
    return ranks.length + 1;
  }

  /** Length of the scratch array {@link #project} needs. */
  public int scratchLength() {
    return Math.max(1, maxRank);
  }

  /**
   * Writes the logits of every component for {@code x[xOff .. xOff+d)} into {@code out[outOff ..
   * outOff+(N+1)K)}: {@code out[outOff + c·K + k]} = row k of component c times x. Adapters are applied factored
   * ({@code s_i·B_i·(A_i x)}), costing {@code r_i(d+K)} instead of {@code K·d}. Modifies {@code out} and
   * {@code scratch} (length ≥ {@link #scratchLength()}) only; allocates nothing.
   */
  public void project(double[] x, int xOff, double[] scratch, double[] out, int outOff) {
    for (int k = 0; k < classes; k++) {
      double s = 0;
      int row = k * dim;
      for (int j = 0; j < dim; j++) {
        s += head[row + j] * x[xOff + j];
      }
      out[outOff + k] = s;
    }
    for (int i = 0; i < ranks.length; i++) {
      int r = ranks[i];
      double[] ai = a[i];
      double[] bi = b[i];
      for (int l = 0; l < r; l++) {
        double s = 0;
        int row = l * dim;
        for (int j = 0; j < dim; j++) {
          s += ai[row + j] * x[xOff + j];
        }
        scratch[l] = s;
      }
      int base = outOff + (i + 1) * classes;
      for (int k = 0; k < classes; k++) {
        double s = 0;
        for (int l = 0; l < r; l++) {
          s += bi[k * r + l] * scratch[l];
        }
        out[base + k] = scaling[i] * s;
      }
    }
  }

  /** Component {@code c} as a dense K×d row-major array (c = 0: the head; c = i: {@code s_i B_i A_i}). */
  public double[] component(int c) {
    if (c == 0) {
      return head.clone();
    }
    int i = c - 1;
    int r = ranks[i];
    double[] out = new double[classes * dim];
    for (int k = 0; k < classes; k++) {
      for (int l = 0; l < r; l++) {
        double bkl = scaling[i] * b[i][k * r + l];
        if (bkl != 0) {
          int arow = l * dim;
          int orow = k * dim;
          for (int j = 0; j < dim; j++) {
            out[orow + j] += bkl * a[i][arow + j];
          }
        }
      }
    }
    return out;
  }

  /**
   * The Frobenius inner products of the components, (N+1)×(N+1) row-major: {@code G[c][e] = ⟨comp_c, comp_e⟩_F}.
   * {@code ρ_pre = sqrt(G[0][0])}, {@code Θ_i = sqrt(G[i][i])}, and a merged head with coefficients c has
   * {@code ‖Σ c_c comp_c‖_F² = cᵀ G c}.
   */
  public double[] frobeniusGram() {
    int n = components();
    double[][] dense = new double[n][];
    for (int c = 0; c < n; c++) {
      dense[c] = component(c);
    }
    double[] g = new double[n * n];
    for (int c = 0; c < n; c++) {
      for (int e = c; e < n; e++) {
        double s = 0;
        for (int j = 0; j < dense[c].length; j++) {
          s += dense[c][j] * dense[e][j];
        }
        g[c * n + e] = s;
        g[e * n + c] = s;
      }
    }
    return g;
  }

  /** {@code Σ_c coefficients[c]·component_c} as a K×d row-major array. */
  public double[] merged(double[] coefficients) {
    if (coefficients.length != components()) {
      throw new ArgumentException(coefficients.length + " coefficients for " + components() + " components");
    }
    double[] out = new double[classes * dim];
    for (int c = 0; c < components(); c++) {
      double[] comp = component(c);
      for (int j = 0; j < out.length; j++) {
        out[j] += coefficients[c] * comp[j];
      }
    }
    return out;
  }

  /** {@code sqrt(cᵀ G c)} for a Gram matrix from {@link #frobeniusGram()}. */
  public static double norm(double[] gram, double[] coefficients) {
    int n = coefficients.length;
    double s = 0;
    for (int c = 0; c < n; c++) {
      for (int e = 0; e < n; e++) {
        s += coefficients[c] * gram[c * n + e] * coefficients[e];
      }
    }
    return Math.sqrt(Math.max(0, s));
  }
}
