package io.loraspace.common.synth;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Qr;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A linear head, N LoRA adapters on it and labelled features with the geometry seed 002 assumes (METHODS.md, "Merging
 * and forgetting"), deterministic by seed. The feature space is split into disjoint coordinate blocks: block 0 holds
 * the pre-training data, block i the data of task i, so features of different datasets are exactly orthogonal in any
 * dtype. In each block, classes have orthonormal prototypes (a random basis of the block); a sample is its class
 * prototype plus Gaussian noise inside the block, normalised to unit norm.
 *
 * <p>{@code W_pre} has rows {@code c(μ_k − μ̄)} (the simplex-ETF direction of the K pre-training prototypes) with
 * {@code ‖W_pre‖_F = rho}; adapter i's update {@code ΔW_i = s_i B_i A_i} has rows {@code c_i(ν_j − ν̄)} for its K̄
 * classes and zero rows elsewhere, {@code ‖ΔW_i‖_F = theta·(1 + (i−1)/2)}, factored through a random rotation with
 * {@code r = K̄ + extraRank} (extra ranks carry zero columns of B) and PEFT's scale (rslora on even-numbered adapters).
 * Pre-training samples whose margin under {@code W_pre} is below {@code 0.1·c} are redrawn, so the data are separable.
 *
 * <p>Violations on request: {@code overlap} ε mixes a random unit vector of the pre-training block into every task
 * sample ({@code x ← sqrt(1−ε²) x + ε u}; still unit norm), so {@code W_pre x ≠ 0} on task data; {@code flipPre} gives
 * that many pre-training samples the next class's label, so {@code γ_pre < 0}.
 */
public final class SyntheticMergeProblem {
  /** What to generate. */
  public static final class Spec implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public int classes = 6;
    public int tasks = 2;
    public int taskClasses = 3;
    public int extraDims = 2;
    public int padding = 0;
    public int samplesPerClass = 20;
    public double noise = 0.3;
    public double overlap = 0;
    public int flipPre = 0;
    public double rho = 4;
    public double theta = 2;
    public int extraRank = 1;
    public double loraAlpha = 8;
    public long seed = 1;

    public void validate() {
      require(classes >= 2, "classes", classes, "≥ 2");
      require(tasks >= 1, "tasks", tasks, "≥ 1");
      require(taskClasses >= 2 && taskClasses <= classes, "task-classes", taskClasses, "in [2, classes]");
      require(extraDims >= 0 && padding >= 0 && extraRank >= 0, "extra-dims/padding/extra-rank",
          extraDims + "/" + padding + "/" + extraRank, "≥ 0");
      require(samplesPerClass >= 1, "samples-per-class", samplesPerClass, "≥ 1");
      require(noise >= 0 && noise <= 1, "noise", noise, "in [0, 1]");
      require(overlap >= 0 && overlap < 1, "overlap", overlap, "in [0, 1)");
      require(flipPre >= 0 && flipPre <= classes * samplesPerClass, "flip-pre", flipPre,
          "in [0, classes·samples-per-class]");
      require(rho > 0 && theta > 0 && loraAlpha > 0, "rho/theta/lora-alpha", rho + "/" + theta + "/" + loraAlpha,
          "> 0");
    }

    private static void require(boolean ok, String name, Object value, String expected) {
      if (!ok) {
        throw new ArgumentException("Option '" + name + "' is " + value + ", expected " + expected);
      }
    }

    int preBlock() {
      return classes + extraDims;
    }

    int taskBlock() {
      return taskClasses + extraDims;
    }

    /** d: the blocks plus padding. */
    public int dim() {
      return preBlock() + tasks * taskBlock() + padding;
    }
  }

  /** Samples of one dataset: features row-major n×d and labels. */
  public record Samples(double[] features, int[] labels) {
    public int size() {
      return labels.length;
    }
  }

  private final Spec spec;
  private final int dim;

  public SyntheticMergeProblem(Spec spec) {
    spec.validate();
    this.spec = spec;
    this.dim = spec.dim();
  }

  public Spec spec() {
    return spec;
  }

  /** The class label of task i's (from 0) j-th class. */
  public int taskLabel(int task, int j) {
    return (task * spec.taskClasses + j) % spec.classes;
  }

  private int blockStart(int dataset) {
    return dataset == 0 ? 0 : spec.preBlock() + (dataset - 1) * spec.taskBlock();
  }

  private int blockSize(int dataset) {
    return dataset == 0 ? spec.preBlock() : spec.taskBlock();
  }

  private SplittableRandom random(int stream) {
    return new SplittableRandom(spec.seed * 1_000_003L + stream);
  }

  /** An orthonormal basis of dataset t's block: m×m column-major (column j = basis vector j in block coordinates). */
  private DenseMatrix basis(int dataset) {
    int m = blockSize(dataset);
    SplittableRandom rnd = random(10 + dataset);
    DenseMatrix g = DenseMatrix.zeros(m, m);
    for (int i = 0; i < m * m; i++) {
      g.data()[i] = gaussian(rnd);
    }
    return Qr.of(g).q();
  }

  private static double gaussian(SplittableRandom rnd) {
    double u = 1 - rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }

  /** Rows {@code scale·(q_j − mean_j q_j)} for the first {@code n} basis vectors of the block, placed at {@code rows}. */
  private void etfRows(int dataset, int n, double norm, int[] rows, double[] out) {
    DenseMatrix q = basis(dataset);
    int m = blockSize(dataset);
    int start = blockStart(dataset);
    double c = norm / Math.sqrt(n - 1);
    for (int j = 0; j < n; j++) {
      for (int t = 0; t < m; t++) {
        double mean = 0;
        for (int jj = 0; jj < n; jj++) {
          mean += q.get(t, jj);
        }
        out[rows[j] * dim + start + t] = c * (q.get(t, j) - mean / n);
      }
    }
  }

  /** W_pre, K×d. */
  public DenseMatrix head() {
    double[] w = new double[spec.classes * dim];
    int[] rows = new int[spec.classes];
    for (int k = 0; k < rows.length; k++) {
      rows[k] = k;
    }
    etfRows(0, spec.classes, spec.rho, rows, w);
    return DenseMatrix.fromRowMajor(spec.classes, dim, w);
  }

  /** Θ_i of adapter i (from 0). */
  public double theta(int task) {
    return spec.theta * (1 + 0.5 * task);
  }

  /** Adapter i (from 0) on {@code module} as PEFT factors: {@code s_i B_i A_i = ΔW_i}. */
  public LoraAdapter adapter(int task, String module) {
    int kbar = spec.taskClasses;
    int r = kbar + spec.extraRank;
    boolean rslora = task % 2 == 1;
    AdapterConfig config = AdapterConfig.lora(r, spec.loraAlpha, List.of(module)).setUseRslora(rslora);
    double s = config.scaling(module);
    int[] rows = new int[kbar];
    for (int j = 0; j < kbar; j++) {
      rows[j] = j;
    }
    double[] m = new double[kbar * dim];
    etfRows(task + 1, kbar, theta(task), rows, m);
    SplittableRandom rnd = random(1000 + task);
    DenseMatrix g0 = DenseMatrix.zeros(kbar, kbar);
    for (int i = 0; i < kbar * kbar; i++) {
      g0.data()[i] = gaussian(rnd);
    }
    DenseMatrix g = Qr.of(g0).q();
    DenseMatrix a = DenseMatrix.zeros(r, dim);
    DenseMatrix b = DenseMatrix.zeros(spec.classes, r);
    for (int l = 0; l < kbar; l++) {
      for (int j = 0; j < kbar; j++) {
        for (int t = 0; t < dim; t++) {
          a.data()[l + t * r] += g.get(l, j) * m[j * dim + t];
        }
        b.set(taskLabel(task, j), l, g.get(l, j) / s);
      }
    }
    int start = blockStart(task + 1);
    for (int l = kbar; l < r; l++) {
      for (int t = 0; t < blockSize(task + 1); t++) {
        a.set(l, start + t, gaussian(rnd) / Math.sqrt(blockSize(task + 1)));
      }
    }
    return new LoraAdapter(config).put(module, a, b);
  }

  /** Dataset t: 0 = pre-training (K classes), i ≥ 1 = task i (its K̄ classes); samples ordered by class. */
  public Samples dataset(int dataset) {
    int n = dataset == 0 ? spec.classes : spec.taskClasses;
    int m = blockSize(dataset);
    int start = blockStart(dataset);
    DenseMatrix q = basis(dataset);
    DenseMatrix pre = dataset == 0 ? null : basis(0);
    double[] w = dataset == 0 ? head().toRowMajor() : null;
    SplittableRandom rnd = random(100 + dataset);
    int total = n * spec.samplesPerClass;
    double[] x = new double[total * dim];
    int[] labels = new int[total];
    double[] v = new double[m];
    for (int s = 0; s < total; s++) {
      int j = s / spec.samplesPerClass;
      int label = dataset == 0 ? j : taskLabel(dataset - 1, j);
      do {
        double norm = 0;
        for (int t = 0; t < m; t++) {
          v[t] = q.get(t, j);
          for (int u = 0; u < m; u++) {
            v[t] += spec.noise * q.get(t, u) * gaussian(rnd) / Math.sqrt(m);
          }
          norm += v[t] * v[t];
        }
        norm = Math.sqrt(norm);
        for (int t = 0; t < m; t++) {
          x[s * dim + start + t] = v[t] / norm;
        }
      } while (w != null && preMargin(w, x, s, label) < 0.1 * spec.rho / Math.sqrt(spec.classes - 1));
      labels[s] = label;
      if (pre != null && spec.overlap > 0) {
        double keep = Math.sqrt(1 - spec.overlap * spec.overlap);
        for (int t = 0; t < m; t++) {
          x[s * dim + start + t] *= keep;
        }
        double[] u = new double[spec.preBlock()];
        double un = 0;
        for (int t = 0; t < u.length; t++) {
          u[t] = gaussian(rnd);
          un += u[t] * u[t];
        }
        for (int t = 0; t < u.length; t++) {
          x[s * dim + t] = spec.overlap * u[t] / Math.sqrt(un);
        }
      }
    }
    if (dataset == 0) {
      for (int s = 0; s < spec.flipPre; s++) {
        labels[s] = (labels[s] + 1) % spec.classes;
      }
    }
    return new Samples(x, labels);
  }

  private double preMargin(double[] w, double[] x, int s, int label) {
    double best = Double.NEGATIVE_INFINITY;
    double own = 0;
    for (int k = 0; k < spec.classes; k++) {
      double z = 0;
      for (int t = 0; t < dim; t++) {
        z += w[k * dim + t] * x[s * dim + t];
      }
      if (k == label) {
        own = z;
      } else {
        best = Math.max(best, z);
      }
    }
    return own - best;
  }
}
