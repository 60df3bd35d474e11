package io.loraspace.jobs.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.ActivationBlockEncoder;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.activations.ActivationRow;
import io.loraspace.common.synth.CorpusSpec;
import io.loraspace.common.synth.PlantedCorpusModel;
import io.loraspace.jobs.BuildInfo;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.corpus.ActivationParquetWriter;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.HadoopConf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code synth-corpus}: writes a synthetic activation corpus in the data contract, with planted low-rank structure
 * per dataset ({@link PlantedCorpusModel}), deterministic by seed whatever the number of files. The layout mirrors a
 * Llama decoder: per layer an attention input site read by q/k/v and an MLP input site read by gate/up, so the module
 * names match HF checkpoints (and the tiny Llama of the interop tests with the defaults).
 */
public final class SyntheticCorpusJob implements Job {
  private static final Logger LOG = LoggerFactory.getLogger(SyntheticCorpusJob.class);

  @Override
  public String name() {
    return "synth-corpus";
  }

  @Override
  public String summary() {
    return "write a synthetic activation/gradient corpus (Parquet, data contract v1) with planted structure";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("datasets", OptionType.STRING_LIST, "plus,minus", "Dataset names")
        .intOption("samples", 64, 1, Integer.MAX_VALUE, "Samples per dataset")
        .intOption("min-tokens", 16, 1, 1 << 20, "Fewest tokens in a sample")
        .intOption("max-tokens", 64, 1, 1 << 20, "Most tokens in a sample")
        .intOption("block-tokens", 32, 1, 1 << 20, "Tokens per row: longer samples span several blocks")
        .intOption("layers", 2, 1, 1024, "Decoder layers (2 sites each: self_attn input, mlp input)")
        .intOption("hidden", 64, 1, 1 << 16, "Hidden size: input dim of every site, output dim of q_proj")
        .intOption("kv-dim", 32, 1, 1 << 16, "Output dim of k_proj and v_proj")
        .intOption("intermediate", 96, 1, 1 << 18, "Output dim of gate_proj and up_proj")
        .intOption("planted-rank", 8, 0, 1 << 16, "Planted directions per (dataset, site)")
        .intOption("shared-rank", 2, 0, 1 << 16, "Planted directions shared by all datasets at a site")
        .option("top-variance", OptionType.DOUBLE, "4.0", "Variance of the strongest planted direction")
        .option("decay", OptionType.DOUBLE, "0.8", "Ratio between successive planted variances")
        .option("noise", OptionType.DOUBLE, "0.1", "Isotropic noise standard deviation")
        .option("mean-scale", OptionType.DOUBLE, "0.0", "Norm of the per-(dataset, site) token mean")
        .option("gradients", OptionType.BOOLEAN, "false", "Also write output gradients of every module")
        .intOption("gradient-rank", 4, 1, 1 << 16, "Rank of the planted gradient map of each module")
        .option("gradient-noise", OptionType.DOUBLE, "0.05", "Gradient noise standard deviation")
        .choice("dtype", "F32", List.of("F32", "BF16", "F16"), "Element type of the blocks")
        .intOption("files", 4, 1, 100_000, "Parquet files to write (one Spark task each)")
        .longOption("row-group-bytes", 64L << 20, 1L << 16, 1L << 34, "Parquet row group size")
        .option("seed", OptionType.LONG, "0", "Seed: the corpus is a function of the seed and these options")
        .build();
  }

  /** Builds the corpus spec from the job's options (validation names the offending option). */
  public static CorpusSpec spec(Options o) {
    List<CorpusSpec.Site> sites = llamaSites(o.getInt("layers"), o.getInt("hidden"), o.getInt("kv-dim"),
        o.getInt("intermediate"));
    return new CorpusSpec(sites, o.getStringList("datasets"), o.getInt("samples"), o.getInt("min-tokens"),
        o.getInt("max-tokens"), o.getInt("block-tokens"), o.getInt("planted-rank"), o.getInt("shared-rank"),
        o.getDouble("top-variance"), o.getDouble("decay"), o.getDouble("noise"), o.getDouble("mean-scale"),
        o.getBoolean("gradients"), o.getInt("gradient-rank"), o.getDouble("gradient-noise"), o.getLong("seed"));
  }

  /**
   * Capture sites of a Llama-style decoder: per layer the attention input (read by q/k/v) and the MLP input (read by
   * gate/up), named as in HF checkpoints.
   */
  public static List<CorpusSpec.Site> llamaSites(int layers, int hidden, int kvDim, int intermediate) {
    List<CorpusSpec.Site> sites = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      sites.add(new CorpusSpec.Site(p + "self_attn.in", hidden, List.of(
          new CorpusSpec.Module(p + "self_attn.q_proj", hidden),
          new CorpusSpec.Module(p + "self_attn.k_proj", kvDim),
          new CorpusSpec.Module(p + "self_attn.v_proj", kvDim))));
      sites.add(new CorpusSpec.Site(p + "mlp.in", hidden, List.of(
          new CorpusSpec.Module(p + "mlp.gate_proj", intermediate),
          new CorpusSpec.Module(p + "mlp.up_proj", intermediate))));
    }
    return sites;
  }

  /** What one task wrote. */
  static final class FileSummary implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    String name;
    long rows;
    long tokens;
    long payloadBytes;
    long fileBytes;
  }

  /**
   * Writes file {@code index} of {@code files}: the (dataset, sample) pairs in [index·n/files, (index+1)·n/files) of
   * the global order (datasets in order, samples ascending), rows ordered by (dataset, sample, site, block).
   */
  static FileSummary writeFile(CorpusSpec spec, Dtype dtype, int files, int index, HadoopConf conf, String dir,
      long rowGroupBytes, String sitesJson) throws java.io.IOException {
    PlantedCorpusModel model = new PlantedCorpusModel(spec);
    long total = (long) spec.datasets.size() * spec.samples;
    long from = total * index / files;
    long to = total * (index + 1) / files;
    FileSummary s = new FileSummary();
    s.name = String.format("part-%05d.parquet", index);
    Path path = new Path(dir, s.name);
    try (ActivationParquetWriter w = new ActivationParquetWriter(conf.get(), path, rowGroupBytes,
        "loraspace synth-corpus " + BuildInfo.version(), sitesJson)) {
      for (long item = from; item < to; item++) {
        String dataset = spec.datasets.get((int) (item / spec.samples));
        long sample = item % spec.samples;
        int t = model.tokensOf(dataset, sample);
        s.tokens += t;
        for (CorpusSpec.Site site : spec.sites) {
          double[] x = model.tokens(dataset, site.name, sample);
          List<double[]> grads = new ArrayList<>();
          if (spec.gradients) {
            for (CorpusSpec.Module m : site.modules) {
              grads.add(model.gradients(dataset, site.name, m, sample, x));
            }
          }
          List<String> modules = new ArrayList<>();
          site.modules.forEach(m -> modules.add(m.name));
          int blocks = (t + spec.blockTokens - 1) / spec.blockTokens;
          for (int b = 0; b < blocks; b++) {
            int start = b * spec.blockTokens;
            int len = Math.min(spec.blockTokens, t - start);
            byte[] in = ActivationBlockEncoder.encode(x, start * site.dim, len, site.dim, dtype);
            List<ActivationRow.GradBlock> gb = new ArrayList<>();
            for (int m = 0; m < grads.size(); m++) {
              CorpusSpec.Module mod = site.modules.get(m);
              gb.add(new ActivationRow.GradBlock(mod.name, mod.out,
                  ActivationBlockEncoder.encode(grads.get(m), start * mod.out, len, mod.out, dtype)));
            }
            w.write(new ActivationRow(dataset, sample, b, site.name, modules, len, site.dim, dtype, in, gb));
          }
        }
      }
      s.rows = w.rows();
      s.payloadBytes = w.payloadBytes();
    }
    s.fileBytes = path.getFileSystem(conf.get()).getFileStatus(path).getLen();
    return s;
  }

  static String sitesJson(CorpusSpec spec) {
    ObjectNode root = Manifest.json().createObjectNode();
    for (CorpusSpec.Site site : spec.sites) {
      ObjectNode s = root.putObject(site.name);
      s.put("dim", site.dim);
      ObjectNode mods = s.putObject("modules");
      site.modules.forEach(m -> mods.put(m.name, m.out));
    }
    return root.toString();
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    Options o = ctx.options();
    generate(ctx, spec(o), Dtype.parse(o.getString("dtype"), "option dtype"), o.getInt("files"),
        o.getLong("row-group-bytes"), ctx.staging());
  }

  /**
   * Generates the corpus of {@code spec} into {@code dir} (under the run's staging directory) as {@code files}
   * Parquet files written by Spark tasks, plus {@code corpus.json}; records counts in the manifest.
   *
   * @return the corpus description written to corpus.json
   */
  public static ObjectNode generate(JobContext ctx, CorpusSpec spec, Dtype dtype, int files, long rowGroup, Path dir)
      throws Exception {
    String dirName = dir.toString();
    String sitesJson = sitesJson(spec);
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    ctx.describe("generate " + spec.datasets.size() + " datasets × " + spec.samples + " samples into " + files
        + " files");
    JavaSparkContext jsc = ctx.jsc();
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      indices.add(i);
    }
    long t0 = System.nanoTime();
    List<FileSummary> written = jsc.parallelize(indices, files)
        .map(i -> writeFile(spec, dtype, files, i, conf, dirName, rowGroup, sitesJson)).collect();
    double secs = (System.nanoTime() - t0) / 1e9;
    long rows = 0;
    long tokens = 0;
    long payload = 0;
    long bytes = 0;
    for (FileSummary s : written) {
      rows += s.rows;
      tokens += s.tokens;
      payload += s.payloadBytes;
      bytes += s.fileBytes;
    }
    ObjectNode corpus = Manifest.json().createObjectNode();
    corpus.put("contract", ActivationContract.NAME).put("contractVersion", ActivationContract.VERSION);
    ArrayNode ds = corpus.putArray("datasets");
    spec.datasets.forEach(ds::add);
    corpus.put("samplesPerDataset", spec.samples);
    corpus.set("sites", Manifest.json().readTree(sitesJson));
    ArrayNode spectrum = corpus.putArray("plantedSpectrum");
    Arrays.stream(new PlantedCorpusModel(spec).spectrum()).forEach(spectrum::add);
    corpus.put("sharedRank", spec.sharedRank).put("noise", spec.noise).put("gradients", spec.gradients);
    corpus.put("files", files).put("rows", rows).put("tokens", tokens).put("fileBytes", bytes);
    try (FSDataOutputStream out = ctx.outputFileSystem().create(new Path(dir, "corpus.json"), true)) {
      out.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsString(corpus)
          .getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().count("corpusFiles", files).count("corpusRows", rows).count("corpusTokens", tokens)
        .count("corpusPayloadBytes", payload).count("corpusFileBytes", bytes).section("corpus", corpus)
        .timing("generate", secs);
    LOG.info(String.format("synth-corpus: %d files, %d rows, %d tokens, %.1f MiB in %.1f s (%.1f MiB/s)", files, rows,
        tokens, bytes / 1048576.0, secs, bytes / 1048576.0 / Math.max(secs, 1e-9)));
    return corpus;
  }
}
