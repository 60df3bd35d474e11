package io.loraspace.common.synth;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Qr;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic collections of LoRA adapters of one Llama-shaped base with known structure, deterministic by seed. For
 * every (module, factor) there is a planted shared orthonormal basis of {@code sharedRank} directions; each vector of
 * an adapter (a row of {@code A}, a column of {@code s·B}) is a combination of them with unit variance per direction,
 * plus a task-specific random direction of the adapter ({@code taskScale}) and isotropic noise of total variance
 * {@code noise} (per vector). Ranks and alphas may vary across adapters; {@code B} is stored divided by the adapter's
 * scaling, so {@code s·B} has the planted structure. Shapes: q ({@code hidden}×{@code hidden}), k and v
 * ({@code kvDim}×{@code hidden}) in {@code layers} layers: Lots-of-LoRAs is hidden 4096, kvDim 1024, r 16, α 32, 32
 * layers.
 */
public final class SyntheticAdapters {
  /** What to generate. */
  public static final class Spec implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public int adapters = 20;
    public int layers = 2;
    public int hidden = 64;
    public int kvDim = 16;
    public List<String> moduleTypes = List.of("q_proj", "k_proj", "v_proj");
    public int r = 16;
    /** Ranks drawn uniformly from [rMin, r] when rMin &lt; r. */
    public int rMin = 16;
    public double alpha = 32;
    /** Alphas drawn uniformly from [alpha/2, alpha] when true. */
    public boolean varyAlpha;
    public int sharedRank = 8;
    public double taskScale = 0.3;
    public double noise = 0.05;
    public long seed = 1;
    public String baseModel = "synthetic-llama";

    public void validate() {
      require(adapters >= 1, "adapters", adapters, "≥ 1");
      require(layers >= 1, "layers", layers, "≥ 1");
      require(hidden >= 2 && kvDim >= 2, "hidden/kv-dim", hidden + "/" + kvDim, "≥ 2");
      require(r >= 1 && rMin >= 1 && rMin <= r, "r/r-min", r + "/" + rMin, "1 ≤ r-min ≤ r");
      require(sharedRank >= 1 && sharedRank <= Math.min(hidden, kvDim), "shared-rank", sharedRank,
          "in [1, min(hidden, kv-dim)]");
      require(alpha > 0 && taskScale >= 0 && noise >= 0, "alpha/task-scale/noise",
          alpha + "/" + taskScale + "/" + noise, "alpha > 0, others ≥ 0");
      for (String m : moduleTypes) {
        require(m.equals("q_proj") || m.equals("k_proj") || m.equals("v_proj"), "modules", m, "q_proj, k_proj or v_proj");
      }
    }

    private static void require(boolean ok, String name, Object value, String expected) {
      if (!ok) {
        throw new ArgumentException("Option '" + name + "' is " + value + ", expected " + expected);
      }
    }

    /** Module names in order. */
    public List<String> modules() {
      List<String> out = new ArrayList<>();
      for (int l = 0; l < layers; l++) {
        for (String m : moduleTypes) {
          out.add("model.layers." + l + ".self_attn." + m);
        }
      }
      return out;
    }

    public int outOf(String module) {
      return module.endsWith("q_proj") ? hidden : kvDim;
    }
  }

  private SyntheticAdapters() {}

  /** The planted basis of one (module, factor): d × sharedRank, orthonormal. */
  public static DenseMatrix planted(Spec s, String module, char factor) {
    int d = factor == 'A' ? s.hidden : s.outOf(module);
    SplittableRandom rnd = new SplittableRandom(s.seed * 1_000_003L + module.hashCode() * 31L + factor);
    DenseMatrix g = DenseMatrix.zeros(d, s.sharedRank);
    for (int i = 0; i < g.data().length; i++) {
      g.data()[i] = gaussian(rnd);
    }
    return Qr.of(g).q();
  }

  /** Adapter {@code index} of the collection. */
  public static LoraAdapter adapter(Spec s, int index) {
    SplittableRandom rnd = new SplittableRandom(s.seed * 7_919L + index * 104_729L + 17);
    int r = s.rMin == s.r ? s.r : s.rMin + rnd.nextInt(s.r - s.rMin + 1);
    double alpha = s.varyAlpha ? s.alpha * (0.5 + 0.5 * rnd.nextDouble()) : s.alpha;
    List<String> types = new ArrayList<>(s.moduleTypes);
    AdapterConfig config = AdapterConfig.lora(r, alpha, types);
    config.setBaseModelNameOrPath(s.baseModel);
    config.setTaskType("CAUSAL_LM");
    LoraAdapter a = new LoraAdapter(config);
    double scaling = alpha / r;
    for (String m : s.modules()) {
      DenseMatrix av = vectors(s, planted(s, m, 'A'), r, rnd);
      DenseMatrix bv = vectors(s, planted(s, m, 'B'), r, rnd);
      DenseMatrix b = bv.copy();
      for (int i = 0; i < b.data().length; i++) {
        b.data()[i] /= scaling;
      }
      a.put(m, av.transpose(), b);
    }
    return a;
  }

  /** r vectors (columns, d × r) with the planted structure. */
  private static DenseMatrix vectors(Spec s, DenseMatrix basis, int r, SplittableRandom rnd) {
    int d = basis.rows();
    DenseMatrix v = DenseMatrix.zeros(d, r);
    double[] task = new double[d];
    double tn = 0;
    for (int i = 0; i < d; i++) {
      task[i] = gaussian(rnd);
      tn += task[i] * task[i];
    }
    tn = Math.sqrt(tn);
    double noiseSd = Math.sqrt(s.noise / d);
    for (int j = 0; j < r; j++) {
      double t = s.taskScale * gaussian(rnd);
      for (int k = 0; k < basis.cols(); k++) {
        double c = gaussian(rnd);
        for (int i = 0; i < d; i++) {
          v.add(i, j, c * basis.get(i, k));
        }
      }
      for (int i = 0; i < d; i++) {
        v.add(i, j, t * task[i] / tn + noiseSd * gaussian(rnd));
      }
    }
    return v;
  }

  private static double gaussian(SplittableRandom rnd) {
    double u1 = rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
