package io.loraspace.jobs.stats;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.common.stats.AccumulatorFormat;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.inputs.InputFiles;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.DataErrors;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stats job's data flow.
 *
 * <ol>
 *   <li>List the input files; scan their small columns in Spark tasks (no payloads): the (dataset, site) and (dataset,
 *       module) keys with dimensions, rows and tokens; contract version and dimensions are checked here.
 *   <li>Select keys by dataset/site/module options and plan passes so that the accumulators one task holds fit
 *       {@code max-task-memory} ({@link PassPlanner}).
 *   <li>Per pass: one task per input file ({@link PassTask}) decodes blocks into per-key accumulators (blocked
 *       {@code dsyrk}/{@code dgemm}) and per-sample partial sums; a sorted shuffle ({@link CanonicalMerge}) merges
 *       them on the executors in a canonical order (input file, then key), builds each output file's state (token
 *       Gram, sample Gram from whole per-sample sums x̂, cross product, gradient diagonal) on the executor owning it,
 *       which writes the file: the same bytes however the run was shaped.
 *   <li>The driver collects only per-key summaries (names, dims, counts) and writes {@code store.json}.
 * </ol>
 */
public final class StatsPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(StatsPipeline.class);

  private StatsPipeline() {}

  /** The resolved options. */
  public static final class Settings implements Serializable {
    private static final long serialVersionUID = 1L;
    public List<String> inputs;
    public List<String> datasets;
    public List<String> sitePatterns;
    public List<String> modulePatterns;
    public String gradients;
    public long maxTaskMemory;
    public NonFinitePolicy policy;
    public int sampleBatch;
    public int reducePartitions;
    /** Model mode: token-corpus inputs and the model that runs on the executors (null: activation input). */
    public List<String> tokens = List.of();
    public io.loraspace.jobs.stats.model.ModelSpec model;
    /** Model mode: consecutive samples of one file per task. */
    public int samplesPerTask = 32;
    /** Accept (dataset, site)s whose blocks have different dtypes ({@link CorpusScan#checkDtypes}). */
    public boolean allowMixedDtypes;
  }


  private static boolean matchesAny(List<Pattern> patterns, String name) {
    if (patterns.isEmpty()) {
      return true;
    }
    for (Pattern p : patterns) {
      if (p.matcher(name).matches()) {
        return true;
      }
    }
    return false;
  }

  private static List<Pattern> compile(String option, List<String> regexes) {
    List<Pattern> out = new ArrayList<>();
    for (String r : regexes) {
      try {
        out.add(Pattern.compile(r));
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new ArgumentException("Option '" + option + "' has value '" + r + "', expected a regex: "
            + e.getDescription());
      }
    }
    return out;
  }

  /** Runs the pipeline writing the store directly under the run's staging directory. */
  public static void run(JobContext ctx, Settings s) throws Exception {
    run(ctx, s, ctx.staging());
  }

  /** Runs the pipeline writing the store into {@code storeDir} (under the run's staging directory). */
  public static void run(JobContext ctx, Settings s, Path storeDir) throws Exception {
    List<Pattern> sitePatterns = compile("sites", s.sitePatterns);
    List<Pattern> modulePatterns = compile("modules", s.modulePatterns);

    long t0 = System.nanoTime();
    boolean modelMode = s.model != null;
    // Checked before Spark starts: the inputs exist and hold Parquet files.
    List<String> files = InputFiles.list(ctx.hadoopConf(), modelMode ? s.tokens : s.inputs,
        modelMode ? "tokens" : "input");
    for (String f : files) {
      ctx.manifest().input(f, null);
    }
    LOG.info("stats: {} input files{}", files.size(), modelMode ? " (token corpus; model " + s.model.model + ")" : "");
    JavaSparkContext jsc = ctx.jsc();
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    DataErrors errors = ctx.dataErrors();

    CorpusScan scan;
    List<String> taskInputs = files;
    if (modelMode) {
      ModelScan tokens = scanTokens(ctx, files, jsc, conf, errors);
      taskInputs = tokens.slices(files, s.samplesPerTask);
      scan = scanModel(ctx, s, tokens, taskInputs.size(), jsc, conf, errors);
    } else {
      ctx.describe("scan " + files.size() + " files (metadata columns)");
      scan = jsc.parallelize(files, Math.max(1, files.size()))
          .flatMap(f -> errors.guardOne(() -> CorpusScan.scanFile(conf, f)))
          .reduce(CorpusScan::merge);
      scan.checkDtypes(s.allowMixedDtypes);
      ctx.manifest().section("siteDtypes", Manifest.json().valueToTree(scan.dtypeCounts()));
    }
    ctx.manifest().timing("scan", (System.nanoTime() - t0) / 1e9);

    // Selection.
    Set<String> datasets = new LinkedHashSet<>(s.datasets);
    Map<String, CorpusScan.Site> sites = new TreeMap<>();
    for (Map.Entry<String, CorpusScan.Site> e : scan.sites.entrySet()) {
      CorpusScan.Site site = e.getValue();
      if ((datasets.isEmpty() || datasets.contains(site.dataset)) && matchesAny(sitePatterns, site.site)) {
        sites.put(e.getKey(), site);
      }
    }
    Map<String, CorpusScan.Module> modules = new TreeMap<>();
    if (!s.gradients.equals("off")) {
      for (Map.Entry<String, CorpusScan.Module> e : scan.modules.entrySet()) {
        CorpusScan.Module m = e.getValue();
        if ((datasets.isEmpty() || datasets.contains(m.dataset)) && matchesAny(modulePatterns, m.module)) {
          modules.put(e.getKey(), m);
        }
      }
    }
    if (sites.isEmpty()) {
      Set<String> names = new LinkedHashSet<>();
      scan.sites.values().forEach(x -> names.add(x.site));
      throw new ArgumentException("Selection datasets=" + s.datasets + " sites=" + s.sitePatterns + " matches no rows"
          + " in " + files.size() + " files (datasets present: " + scan.datasets() + "; sites present: "
          + abbreviate(names) + ")");
    }
    for (String d : datasets) {
      if (scan.datasets().indexOf(d) < 0) {
        throw new ArgumentException("Option 'datasets' names '" + d + "', which is not in the input (datasets "
            + "present: " + scan.datasets() + ")");
      }
    }
    if (s.gradients.equals("on") && modules.isEmpty()) {
      throw new ArgumentException("Option 'gradients' is 'on' but the selected input holds no gradient blocks"
          + (scan.modules.isEmpty() ? "" : " for modules matching " + s.modulePatterns));
    }

    // Passes under the per-task memory budget.
    // Planner keys are readable ("site plus/model.layers.0.mlp.in") since they appear in the budget error.
    List<PassPlanner.KeyCost> costs = new ArrayList<>();
    Map<String, Long> keyCost = new TreeMap<>();
    Map<String, String> siteOfLabel = new TreeMap<>();
    Map<String, String> moduleOfLabel = new TreeMap<>();
    for (Map.Entry<String, CorpusScan.Site> e : sites.entrySet()) {
      long d = e.getValue().dim;
      String label = "site " + e.getValue().dataset + "/" + e.getValue().site;
      siteOfLabel.put(label, e.getKey());
      long cost = 8 * d * d + 8 * d;
      costs.add(new PassPlanner.KeyCost(label, cost));
      keyCost.put(e.getKey(), cost);
    }
    for (Map.Entry<String, CorpusScan.Module> e : modules.entrySet()) {
      CorpusScan.Module m = e.getValue();
      String label = "module " + m.dataset + "/" + m.module;
      moduleOfLabel.put(label, e.getKey());
      long cost = 8L * m.out * m.in + 16L * m.out;
      costs.add(new PassPlanner.KeyCost(label, cost));
      keyCost.put(e.getKey(), cost);
    }
    List<List<String>> passes = PassPlanner.plan(costs, s.maxTaskMemory);
    LOG.info("stats: {} site keys, {} module keys in {} pass(es) under max-task-memory={}", sites.size(),
        modules.size(), passes.size(), s.maxTaskMemory);

    String staging = storeDir.toString();
    List<StoreFiles.Written> written = new ArrayList<>();
    long rowsDecoded = 0;
    long bytesDecoded = 0;
    long skipped = 0;
    for (int p = 0; p < passes.size(); p++) {
      long tp = System.nanoTime();
      Set<String> passSites = new LinkedHashSet<>();
      Set<String> passModules = new LinkedHashSet<>();
      for (String label : passes.get(p)) {
        if (siteOfLabel.containsKey(label)) {
          passSites.add(siteOfLabel.get(label));
        } else {
          passModules.add(moduleOfLabel.get(label));
        }
      }
      Map<String, String> moduleSite = new TreeMap<>();
      for (String k : passModules) {
        moduleSite.put(k, modules.get(k).site);
      }
      Map<String, List<String>> siteModules = new TreeMap<>();
      for (String k : passSites) {
        siteModules.put(k, new ArrayList<>(sites.get(k).modules));
      }
      // Activation input with fewer files than task slots: a file's keys are split over parallel tasks (KeyGroups).
      List<PassMapper> mappers = new ArrayList<>();
      if (modelMode) {
        mappers.add(new ModelPassTask(conf, s.model, passSites, passModules, p, 15_000));
      } else {
        Map<String, Long> siteCost = new TreeMap<>();
        for (String k : passSites) {
          siteCost.merge(k, keyCost.get(k), Long::sum);
        }
        for (String k : passModules) {
          CorpusScan.Module m = modules.get(k);
          siteCost.merge(StatKeys.site(m.dataset, m.site), keyCost.get(k), Long::sum);
        }
        int groups = KeyGroups.count(files.size(), jsc.defaultParallelism(), siteCost.size());
        for (Set<String> unitSites : KeyGroups.split(siteCost, groups)) {
          Set<String> gs = new LinkedHashSet<>();
          Set<String> gm = new LinkedHashSet<>();
          for (String k : passSites) {
            if (unitSites.contains(k)) {
              gs.add(k);
            }
          }
          for (String k : passModules) {
            CorpusScan.Module m = modules.get(k);
            if (unitSites.contains(StatKeys.site(m.dataset, m.site))) {
              gm.add(k);
            }
          }
          mappers.add(new PassTask(conf, gs, gm, s.policy, p, 15_000));
        }
      }
      int keys = passSites.size() + passModules.size();
      int reduceParts = s.reducePartitions > 0 ? s.reducePartitions
          : Math.max(1, Math.min(keys, 4 * jsc.defaultParallelism()));
      ctx.describe("pass " + (p + 1) + "/" + passes.size() + ": " + passSites.size() + " sites, " + passModules.size()
          + " modules over " + files.size() + " files" + (modelMode ? " (" + taskInputs.size() + " model tasks)" : ""));
      // One task per input file and key group, or per slice of a token file. The partition index orders the canonical
      // merge: file-major, so a key's partials (one per file, from the one group that holds the key) merge in file
      // order whatever the number of groups.
      int batch = s.sampleBatch;
      int g = mappers.size();
      List<String> inputs = new ArrayList<>();
      for (String f : taskInputs) {
        for (int j = 0; j < g; j++) {
          inputs.add(f);
        }
      }
      JavaRDD<StoreFiles.Written> out = jsc.parallelize(inputs, Math.max(1, inputs.size()))
          .mapPartitionsWithIndex((part, it) -> errors.guard(() -> CanonicalMerge.keyed(part,
              mappers.get(part % g).run(it))), true)
          .mapToPair(t -> t)
          .repartitionAndSortWithinPartitions(new CanonicalMerge.ByTarget(reduceParts), new CanonicalMerge.Order())
          .mapPartitions(it -> errors.guard(() -> CanonicalMerge.reduce(it, batch,
              (target, state) -> StoreFiles.writeTarget(conf, staging, target, state, siteModules, moduleSite))));
      for (StoreFiles.Written w : out.collect()) {
        if (w.kind == StatKeys.COUNTERS) {
          rowsDecoded += w.tokens;
          bytesDecoded += w.bytes;
          skipped += w.samples;
        } else {
          written.add(w);
        }
      }
      double secs = (System.nanoTime() - tp) / 1e9;
      ctx.manifest().timing("pass" + (p + 1), secs);
      LOG.info(String.format("stats pass %d/%d done in %.1f s", p + 1, passes.size(), secs));
    }

    StoreFiles.writeIndex(ctx, written, storeDir);
    double total = (System.nanoTime() - t0) / 1e9;
    ctx.manifest().count("inputFiles", files.size()).count("inputBytes", scan.fileBytes)
        .count("inputRows", scan.rows).count("passes", passes.size()).count("siteKeys", sites.size())
        .count("moduleKeys", modules.size()).count("rowsDecoded", rowsDecoded).count("bytesDecoded", bytesDecoded)
        .count("skippedTokens", skipped);
    long tokens = 0;
    for (StoreFiles.Written w : written) {
      if (w.kind == StatKeys.SITE) {
        tokens += w.tokens;
      }
    }
    ctx.manifest().count("tokens", tokens);
    LOG.info(String.format("stats: %d site and %d module statistics from %d rows (%.1f MiB decoded) in %d pass(es), "
        + "%.1f s (%.1f MiB/s)", sites.size(), modules.size(), scan.rows, bytesDecoded / 1048576.0, passes.size(),
        total, bytesDecoded / 1048576.0 / Math.max(total, 1e-9)));
  }

  /**
   * Model mode's scan: the token corpus (samples, tokens, largest id per dataset) in one Spark job, the model's layout
   * from one worker in another; recorded in the manifest ("model").
   */
  private static ModelScan scanTokens(JobContext ctx, List<String> files, JavaSparkContext jsc, HadoopConf conf,
      DataErrors errors) {
    ctx.describe("scan " + files.size() + " token-corpus files");
    return jsc.parallelize(files, Math.max(1, files.size()))
        .flatMap(f -> errors.guardOne(() -> ModelScan.scanFile(conf, f)))
        .reduce(ModelScan::merge);
  }

  private static CorpusScan scanModel(JobContext ctx, Settings s, ModelScan tokens, int passTasks,
      JavaSparkContext jsc, HadoopConf conf, DataErrors errors) throws Exception {
    io.loraspace.jobs.stats.model.ModelSpec spec = s.model;
    // One describe task per task slot the first pass can fill (at most its task count): each starts a worker that
    // imports torch and transformers and loads the model, then waits in its executor's pool for a pass task, so the
    // workers start side by side here instead of one per slot at the start of the pass.
    int slots = jsc.defaultParallelism() / Math.max(1, jsc.getConf().getInt("spark.task.cpus", 1));
    int warm = Math.max(1, Math.min(passTasks, slots));
    ctx.describe("start " + warm + " model worker(s), load the model and read its capture sites");
    List<Integer> tasks = new ArrayList<>();
    for (int i = 0; i < warm; i++) {
      tasks.add(i);
    }
    List<String> layouts = jsc.parallelize(tasks, warm)
        .flatMap(i -> errors.guardOne(() -> ModelScan.describe(conf, spec))).collect();
    errors.throwIfRecorded(null);
    com.fasterxml.jackson.databind.JsonNode layout = ModelScan.sameLayout(layouts);
    ctx.manifest().section("model", Manifest.json().createObjectNode().put("model", spec.model)
        .put("python", spec.python).put("dtype", spec.dtype).put("device", layout.path("device").asText())
        .put("modules", spec.modules).put("vocab", layout.path("vocab").asInt())
        .put("modelType", layout.path("modelType").asText()).put("sites", layout.path("sites").size())
        .set("worker", layout.path("worker")));
    LOG.info("stats: model {} ({}), {} capture sites, {} modules; corpus {} samples", spec.model,
        layout.path("modelType").asText(), layout.path("sites").size(), layout.path("modules").size(), tokens.rows);
    return tokens.asCorpus(layout, s.gradients.equals("on"));
  }

  private static String abbreviate(Set<String> names) {
    List<String> l = new ArrayList<>(names);
    return l.size() <= 8 ? l.toString() : l.subList(0, 8) + " and " + (l.size() - 8) + " more";
  }

  /** Merges two records of the same key, {@code a} first; the first byte of a record is its kind. */
  static byte[] mergeRecords(byte[] a, byte[] b) {
    char kind = (char) a[0];
    switch (kind) {
      case StatKeys.TOKEN:
      case StatKeys.CROSS:
      case StatKeys.DIAG: {
        var x = AccumulatorFormat.read(a, 1, a.length - 1);
        x.merge(AccumulatorFormat.read(b, 1, b.length - 1));
        return PassTask.tagged(kind, AccumulatorFormat.write(x));
      }
      case StatKeys.SAMPLE:
        return PassTask.tagged(kind, PassTask.addPartials(untag(a), untag(b)));
      case StatKeys.COUNTERS:
        return PassTask.tagged(kind, PassTask.addCounters(untag(a), untag(b)));
      case StatKeys.GRAD_SAMPLE:
        return a;
      default:
        throw new io.loraspace.common.error.FormatException("Unknown statistics record kind '" + kind + "'");
    }
  }

  static byte[] untag(byte[] r) {
    return java.util.Arrays.copyOfRange(r, 1, r.length);
  }

}
