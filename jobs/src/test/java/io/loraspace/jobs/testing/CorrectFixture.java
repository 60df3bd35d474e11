package io.loraspace.jobs.testing;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.safetensors.ShardedSafetensorsWriter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import io.loraspace.common.synth.SyntheticAdapters;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Inputs of the correct job: a base checkpoint, an aligned one (base plus a displacement with a clustered spectrum:
 * 3 × 1.0, 3 × 0.3, then a flat tail of 0.02, per module: τ = 0.9 gives k = 3) and a synthetic adapter collection of the same shapes.
 */
public final class CorrectFixture {
  private CorrectFixture() {}

  public static SyntheticAdapters.Spec spec(int adapters, int hidden, int kvDim, int r) {
    SyntheticAdapters.Spec s = new SyntheticAdapters.Spec();
    s.adapters = adapters;
    s.layers = 1;
    s.hidden = hidden;
    s.kvDim = kvDim;
    s.r = r;
    s.rMin = Math.max(1, r / 2);
    s.varyAlpha = true;
    s.sharedRank = Math.min(4, kvDim);
    return s;
  }

  /** The aligned displacement of one module, deterministic by module name. */
  public static DenseMatrix displacement(String module, int out, int in) {
    SplittableRandom rnd = new SplittableRandom(module.hashCode());
    int p = Math.min(out, in);
    DenseMatrix u = gaussian(out, p, rnd);
    DenseMatrix v = gaussian(in, p, rnd);
    u = Qr.of(u).q();
    v = Qr.of(v).q();
    for (int j = 0; j < p; j++) {
      double s = j < 3 ? 1.0 : j < 6 ? 0.3 : 0.02;
      for (int i = 0; i < out; i++) {
        u.set(i, j, u.get(i, j) * s * 0.05);
      }
    }
    return Matrices.multiply(u, false, v, true);
  }

  private static DenseMatrix gaussian(int r, int c, SplittableRandom rnd) {
    DenseMatrix m = DenseMatrix.zeros(r, c);
    for (int i = 0; i < m.data().length; i++) {
      m.data()[i] = rnd.nextGaussian();
    }
    return m;
  }

  public static DenseMatrix baseWeight(String module, int out, int in) {
    SplittableRandom rnd = new SplittableRandom(31L * module.hashCode() + 7);
    DenseMatrix w = gaussian(out, in, rnd);
    Matrices.scale(1.0 / Math.sqrt(in), w);
    return w;
  }

  /**
   * Writes {@code base/} and {@code aligned/} (sharded, F32) for the spec's modules; {@code alignedShapes} overrides
   * a module's [out, in] in the aligned checkpoint and {@code drop} leaves a module out of a checkpoint ("base" or
   * "aligned" → module).
   */
  public static void checkpoints(Path dir, SyntheticAdapters.Spec s, Map<String, int[]> alignedShapes,
      Map<String, String> drop) {
    ShardedSafetensorsWriter base = new ShardedSafetensorsWriter(8 << 10).metadata("format", "pt");
    ShardedSafetensorsWriter aligned = new ShardedSafetensorsWriter(8 << 10).metadata("format", "pt");
    for (String m : s.modules()) {
      int out = s.outOf(m);
      int in = s.hidden;
      DenseMatrix w = baseWeight(m, out, in);
      if (!m.equals(drop.get("base"))) {
        base.addMatrix(m + ".weight", Dtype.F32, w);
      }
      int[] shape = alignedShapes.getOrDefault(m, new int[] {out, in});
      DenseMatrix a = shape[0] == out && shape[1] == in ? w.copy() : baseWeight(m, shape[0], shape[1]);
      if (shape[0] == out && shape[1] == in) {
        Matrices.axpy(1.0, displacement(m, out, in), a);
      }
      if (!m.equals(drop.get("aligned"))) {
        aligned.addMatrix(m + ".weight", Dtype.F32, a);
      }
    }
    base.write(dir.resolve("base"));
    aligned.write(dir.resolve("aligned"));
  }

  /** Writes the spec's adapters as {@code dir/adapter-NNNN}. */
  public static void adapters(Path dir, SyntheticAdapters.Spec s) {
    for (int i = 0; i < s.adapters; i++) {
      AdapterDirectory.write(dir.resolve(String.format("adapter-%04d", i)), SyntheticAdapters.adapter(s, i),
          Dtype.F32, false);
    }
  }
}
