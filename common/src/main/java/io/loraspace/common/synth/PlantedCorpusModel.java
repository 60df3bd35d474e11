package io.loraspace.common.synth;

import io.loraspace.common.linalg.DenseMatrix;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The generative model behind synthetic corpora: for dataset D and site s (input dimension d),
 * {@code x = μ + U diag(√λ) z + σ ε} with {@code U} (d×k) orthonormal, {@code λ_j = top · decay^j}, z and ε standard
 * normal. The first {@code sharedRank} planted directions are common to all datasets at a site (so datasets overlap
 * by that much), the rest are dataset-specific. For module m reading s: {@code g = G x + τ η} with a planted rank
 * {@code gradientRank} map {@code G} (out×d). A sample's token count is uniform in [minTokens, maxTokens] and the same
 * at every site.
 *
 * <p>Every draw comes from a generator seeded by (seed, dataset, site/module, sample) only, so the corpus is identical
 * however it is partitioned. The exact moments are exposed for tests: {@code E[x xᵀ] = μμᵀ + UΛUᵀ + σ²I}.
 */
public final class PlantedCorpusModel {
  private final CorpusSpec spec;

  public PlantedCorpusModel(CorpusSpec spec) {
    this.spec = spec;
  }

  public CorpusSpec spec() {
    return spec;
  }

  /** SplitMix64 finaliser: a strong 64-bit mix. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A generator determined by the corpus seed and the given parts (strings and numbers). */
  static SplittableRandom rng(long seed, Object... parts) {
    long h = mix(seed ^ 0x9e3779b97f4a7c15L);
    for (Object p : parts) {
      long v;
      if (p instanceof Number) {
        v = ((Number) p).longValue();
      } else {
        v = 1469598103934665603L; // FNV-1a over UTF-8, stable across JVMs
        for (byte b : p.toString().getBytes(StandardCharsets.UTF_8)) {
          v = (v ^ (b & 0xFF)) * 1099511628211L;
        }
      }
      h = mix(h + v);
    }
    return new SplittableRandom(h);
  }

  /** Tokens of a sample (the same at every site). */
  public int tokensOf(String dataset, long sample) {
    SplittableRandom r = rng(spec.seed, "tokens", dataset, sample);
    return spec.minTokens + r.nextInt(spec.maxTokens - spec.minTokens + 1);
  }

  /** Number of blocks a sample's tokens are split into. */
  public int blocksOf(String dataset, long sample) {
    return (tokensOf(dataset, sample) + spec.blockTokens - 1) / spec.blockTokens;
  }

  /** The planted orthonormal basis U (d×k) of dataset at site. */
  public DenseMatrix plantedBasis(String dataset, String site) {
    int d = spec.site(site).dim;
    int k = spec.plantedRank;
    DenseMatrix u = DenseMatrix.zeros(d, k);
    for (int j = 0; j < k; j++) {
      SplittableRandom r = j < spec.sharedRank ? rng(spec.seed, "shared", site, j) : rng(spec.seed, "basis", dataset,
          site, j);
      for (int i = 0; i < d; i++) {
        u.set(i, j, r.nextGaussian());
      }
    }
    orthonormalize(u);
    return u;
  }

  /** Modified Gram–Schmidt, applied twice for orthogonality to working precision. */
  private static void orthonormalize(DenseMatrix u) {
    int d = u.rows();
    double[] a = u.data();
    for (int j = 0; j < u.cols(); j++) {
      for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < j; p++) {
          double dot = 0;
          for (int i = 0; i < d; i++) {
            dot += a[i + p * d] * a[i + j * d];
          }
          for (int i = 0; i < d; i++) {
            a[i + j * d] -= dot * a[i + p * d];
          }
        }
      }
      double norm = 0;
      for (int i = 0; i < d; i++) {
        norm += a[i + j * d] * a[i + j * d];
      }
      norm = Math.sqrt(norm);
      for (int i = 0; i < d; i++) {
        a[i + j * d] /= norm;
      }
    }
  }

  /** The planted variances λ_j = top · decay^j, j = 0..k-1. */
  public double[] spectrum() {
    double[] l = new double[spec.plantedRank];
    for (int j = 0; j < l.length; j++) {
      l[j] = spec.topVariance * Math.pow(spec.decay, j);
    }
    return l;
  }

  /** The token mean μ of dataset at site (zero when mean-scale is 0). */
  public double[] mean(String dataset, String site) {
    int d = spec.site(site).dim;
    double[] mu = new double[d];
    if (spec.meanScale == 0) {
      return mu;
    }
    SplittableRandom r = rng(spec.seed, "mean", dataset, site);
    double n = 0;
    for (int i = 0; i < d; i++) {
      mu[i] = r.nextGaussian();
      n += mu[i] * mu[i];
    }
    double s = spec.meanScale / Math.sqrt(n);
    for (int i = 0; i < d; i++) {
      mu[i] *= s;
    }
    return mu;
  }

  /** The sample's tokens at site: T×d row-major (T = {@link #tokensOf}). */
  public double[] tokens(String dataset, String site, long sample) {
    int d = spec.site(site).dim;
    int t = tokensOf(dataset, sample);
    int k = spec.plantedRank;
    DenseMatrix u = plantedBasis(dataset, site);
    double[] lam = spectrum();
    double[] mu = mean(dataset, site);
    double[] x = new double[t * d];
    double[] z = new double[k];
    SplittableRandom r = rng(spec.seed, "tokens", dataset, site, sample);
    for (int row = 0; row < t; row++) {
      for (int j = 0; j < k; j++) {
        z[j] = Math.sqrt(lam[j]) * r.nextGaussian();
      }
      int base = row * d;
      for (int i = 0; i < d; i++) {
        double v = mu[i] + spec.noise * r.nextGaussian();
        for (int j = 0; j < k; j++) {
          v += u.get(i, j) * z[j];
        }
        x[base + i] = v;
      }
    }
    return x;
  }

  /** The planted gradient map G (out×d) of module at dataset. */
  public DenseMatrix gradientMap(String dataset, String site, CorpusSpec.Module module) {
    int d = spec.site(site).dim;
    int rank = Math.min(spec.gradientRank, Math.min(d, module.out));
    SplittableRandom r = rng(spec.seed, "gradmap", dataset, module.name);
    DenseMatrix p = DenseMatrix.zeros(module.out, rank);
    DenseMatrix q = DenseMatrix.zeros(d, rank);
    for (int i = 0; i < p.data().length; i++) {
      p.data()[i] = r.nextGaussian();
    }
    for (int i = 0; i < q.data().length; i++) {
      q.data()[i] = r.nextGaussian();
    }
    DenseMatrix g = DenseMatrix.zeros(module.out, d);
    double s = 1.0 / Math.sqrt((double) d * rank);
    for (int a = 0; a < module.out; a++) {
      for (int b = 0; b < d; b++) {
        double v = 0;
        for (int j = 0; j < rank; j++) {
          v += p.get(a, j) * q.get(b, j);
        }
        g.set(a, b, v * s);
      }
    }
    return g;
  }

  /** Output gradients of module over the sample's tokens {@code x} (T×d row-major): T×out row-major. */
  public double[] gradients(String dataset, String site, CorpusSpec.Module module, long sample, double[] x) {
    int d = spec.site(site).dim;
    int t = x.length / d;
    DenseMatrix g = gradientMap(dataset, site, module);
    double[] out = new double[t * module.out];
    SplittableRandom r = rng(spec.seed, "gradnoise", dataset, module.name, sample);
    for (int row = 0; row < t; row++) {
      for (int a = 0; a < module.out; a++) {
        double v = spec.gradientNoise * r.nextGaussian();
        for (int b = 0; b < d; b++) {
          v += g.get(a, b) * x[row * d + b];
        }
        out[row * module.out + a] = v;
      }
    }
    return out;
  }

  /** The exact second moment E[x xᵀ] = μμᵀ + UΛUᵀ + σ²I of dataset at site (d×d). */
  public DenseMatrix expectedSecondMoment(String dataset, String site) {
    int d = spec.site(site).dim;
    DenseMatrix u = plantedBasis(dataset, site);
    double[] lam = spectrum();
    double[] mu = mean(dataset, site);
    DenseMatrix m = DenseMatrix.zeros(d, d);
    for (int a = 0; a < d; a++) {
      for (int b = 0; b < d; b++) {
        double v = mu[a] * mu[b] + (a == b ? spec.noise * spec.noise : 0);
        for (int j = 0; j < lam.length; j++) {
          v += lam[j] * u.get(a, j) * u.get(b, j);
        }
        m.set(a, b, v);
      }
    }
    return m;
  }
}
