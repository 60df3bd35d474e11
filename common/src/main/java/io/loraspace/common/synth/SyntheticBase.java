package io.loraspace.common.synth;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.ShardedSafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import java.nio.file.Path;
import java.util.List;

/**
 * A base checkpoint for a synthetic corpus: one Linear weight {@code <module>.weight} [out, in] per module of the
 * corpus spec, Gaussian with standard deviation 1/√in (a freshly initialised layer), written as sharded safetensors
 * with an index. Deterministic for a seed.
 */
public final class SyntheticBase {
  private SyntheticBase() {}

  /** The weight of {@code module} reading a site of dimension {@code in}. */
  public static DenseMatrix weight(long seed, String module, int out, int in) {
    java.util.SplittableRandom rnd = PlantedCorpusModel.rng(seed, "base-weight", module);
    DenseMatrix w = DenseMatrix.zeros(out, in);
    double sd = 1.0 / Math.sqrt(in);
    double[] d = w.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = rnd.nextGaussian() * sd;
    }
    return w;
  }

  /** Writes every module's weight in {@code dtype} into {@code dir}; returns the shard names. */
  public static List<String> write(CorpusSpec spec, long seed, Dtype dtype, long maxShardBytes, Path dir) {
    ShardedSafetensorsWriter w = new ShardedSafetensorsWriter(maxShardBytes).metadata("format", "pt");
    for (CorpusSpec.Site site : spec.sites) {
      for (CorpusSpec.Module m : site.modules) {
        w.addMatrix(m.name + ".weight", dtype, weight(seed, m.name, m.out, site.dim));
      }
    }
    return w.write(dir);
  }
}
