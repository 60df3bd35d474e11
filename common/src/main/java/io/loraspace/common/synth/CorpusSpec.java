package io.loraspace.common.synth;

import io.loraspace.common.error.ArgumentException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a synthetic corpus looks like: capture sites (input dimension and the modules that read them, with output
 * dimensions), datasets, and the planted structure. Immutable and validated on construction: a bad value fails naming
 * the field (the option of the same name in {@code synth-corpus}).
 */
public final class CorpusSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A module reading a site's input, with its output dimension. */
  public static final class Module implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final int out;

    public Module(String name, int out) {
      this.name = name;
      this.out = out;
    }
  }

  /** A capture site: one input tensor of dimension {@code dim} read by {@code modules}. */
  public static final class Site implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final int dim;
    public final List<Module> modules;

    public Site(String name, int dim, List<Module> modules) {
      this.name = name;
      this.dim = dim;
      this.modules = List.copyOf(modules);
    }
  }

  public final List<Site> sites;
  public final List<String> datasets;
  public final int samples;
  public final int minTokens;
  public final int maxTokens;
  public final int blockTokens;
  public final int plantedRank;
  public final int sharedRank;
  public final double topVariance;
  public final double decay;
  public final double noise;
  public final double meanScale;
  public final boolean gradients;
  public final int gradientRank;
  public final double gradientNoise;
  public final long seed;

  public CorpusSpec(List<Site> sites, List<String> datasets, int samples, int minTokens, int maxTokens,
      int blockTokens, int plantedRank, int sharedRank, double topVariance, double decay, double noise,
      double meanScale, boolean gradients, int gradientRank, double gradientNoise, long seed) {
    this.sites = List.copyOf(sites);
    this.datasets = List.copyOf(datasets);
    this.samples = samples;
    this.minTokens = minTokens;
    this.maxTokens = maxTokens;
    this.blockTokens = blockTokens;
    this.plantedRank = plantedRank;
    this.sharedRank = sharedRank;
    this.topVariance = topVariance;
    this.decay = decay;
    this.noise = noise;
    this.meanScale = meanScale;
    this.gradients = gradients;
    this.gradientRank = gradientRank;
    this.gradientNoise = gradientNoise;
    this.seed = seed;
    validate();
  }

  private static void require(boolean ok, String field, Object value, String expected) {
    if (!ok) {
      throw new ArgumentException("Option '" + field + "' has value '" + value + "', expected " + expected);
    }
  }

  private void validate() {
    require(!sites.isEmpty(), "sites", sites.size(), "at least one site");
    require(!datasets.isEmpty(), "datasets", datasets, "at least one dataset");
    Set<String> names = new HashSet<>();
    int minDim = Integer.MAX_VALUE;
    for (Site s : sites) {
      require(s.dim >= 1, "dim", s.dim, "≥ 1 (site '" + s.name + "')");
      require(names.add(s.name), "sites", s.name, "unique site names");
      minDim = Math.min(minDim, s.dim);
      for (Module m : s.modules) {
        require(m.out >= 1, "module-dims", m.out, "≥ 1 (module '" + m.name + "')");
        require(names.add(m.name), "modules", m.name, "unique module names");
      }
    }
    require(new HashSet<>(datasets).size() == datasets.size(), "datasets", datasets, "unique dataset names");
    for (String d : datasets) {
      require(d.matches("[A-Za-z0-9_.-]+"), "datasets", d, "names of letters, digits, '_', '.', '-'");
    }
    require(samples >= 1, "samples", samples, "≥ 1");
    require(minTokens >= 1, "min-tokens", minTokens, "≥ 1");
    require(maxTokens >= minTokens, "max-tokens", maxTokens, "≥ min-tokens (" + minTokens + ")");
    require(blockTokens >= 1, "block-tokens", blockTokens, "≥ 1");
    require(plantedRank >= 0 && plantedRank <= minDim, "planted-rank", plantedRank, "in [0, " + minDim + "]");
    require(sharedRank >= 0 && sharedRank <= plantedRank, "shared-rank", sharedRank, "in [0, planted-rank]");
    require(topVariance > 0 && Double.isFinite(topVariance), "top-variance", topVariance, "> 0");
    require(decay > 0 && decay <= 1, "decay", decay, "in (0, 1]");
    require(noise >= 0 && Double.isFinite(noise), "noise", noise, "≥ 0");
    require(meanScale >= 0 && Double.isFinite(meanScale), "mean-scale", meanScale, "≥ 0");
    require(gradientRank >= 1, "gradient-rank", gradientRank, "≥ 1");
    require(gradientNoise >= 0 && Double.isFinite(gradientNoise), "gradient-noise", gradientNoise, "≥ 0");
  }

  public Site site(String name) {
    for (Site s : sites) {
      if (s.name.equals(name)) {
        return s;
      }
    }
    throw new ArgumentException("No site '" + name + "' in the corpus spec");
  }

  /** All module names in site order. */
  public List<String> moduleNames() {
    List<String> out = new ArrayList<>();
    for (Site s : sites) {
      for (Module m : s.modules) {
        out.add(m.name);
      }
    }
    return out;
  }
}
