package io.loraspace.jobs.init;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.Eva;
import io.loraspace.common.init.LoraDa;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.safetensors.SafetensorsStreamWriter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.safetensors.TensorInfo;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.inputs.LocalFiles;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The init job's driver: resolves target modules against the statistics store and the base checkpoint, validates
 * everything it can before any work, runs one Spark task per (module, method), and assembles per (method, parameters)
 * a PEFT adapter directory, residual weights (sharded safetensors + index) where the method needs them, and reports.
 */
public final class InitPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(InitPipeline.class);

  /** Everything the pipeline needs; the job fills it from options. */
  public static final class Settings {
    public String stats;
    public String base;
    public String baseModelName;
    public List<String> targetModules = List.of("all-linear");
    public int r = 16;
    public double loraAlpha = 16;
    public boolean useRslora;
    public Map<String, Integer> rankPattern = new LinkedHashMap<>();
    public Map<String, Double> alphaPattern = new LinkedHashMap<>();
    public List<Method> methods = List.of(Method.SC_LORA);
    public List<Double> betas = List.of(0.5);
    public String plusDataset = "plus";
    public String minusDataset = "minus";
    public EigenSolver solver = EigenSolver.AUTO;
    public boolean evaRedistribute;
    public double evaRho = 2.0;
    public boolean evaAdjustScaling = true;
    public Dtype adapterDtype = Dtype.F32;
    /** null: each residual in its base weight's dtype. */
    public Dtype residualDtype;
    public String taskType = "CAUSAL_LM";
    /** LoRA-DA options; {@code loraDa.n} (the fine-tuning set size) is required when lora-da is requested. */
    public LoraDa.Options loraDa = new LoraDa.Options();
    public double loraOneGamma = 1.0;
  }

  /** A resolved target module. */
  static final class Target {
    String module;
    String weight;
    String bias;
    int out;
    int in;
    Dtype dtype;
  }

  private InitPipeline() {}

  /** Parses PEFT-style {@code key=value} pattern entries. */
  public static Map<String, String> parsePatterns(String option, List<String> entries) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String e : entries) {
      int eq = e.lastIndexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        throw new ArgumentException("Option '" + option + "' has entry '" + e + "', expected PATTERN=VALUE");
      }
      out.put(e.substring(0, eq).trim(), e.substring(eq + 1).trim());
    }
    return out;
  }

  /** PEFT's target_modules rule on one name: equal, or a suffix after a dot; {@code re:X} full-matches X. */
  static boolean targets(List<String> patterns, String module) {
    for (String t : patterns) {
      if (t.startsWith("re:")) {
        if (Pattern.compile(t.substring(3)).matcher(module).matches()) {
          return true;
        }
      } else if (module.equals(t) || module.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  /** Fails unless option 'base' is on a file system every executor mounts; returns its local path. */
  static String checkBase(Settings s) {
    if (!LocalFiles.isLocal(new Path(s.base))) {
      throw new ArgumentException("Option 'base' is '" + s.base + "': the base checkpoint must be on a file system "
          + "every executor mounts (local disk or NFS); copy it there first");
    }
    String basePath = new Path(s.base).toUri().getPath();
    ShardedCheckpoint.open(java.nio.file.Path.of(basePath)).close();
    return basePath;
  }

  /** Validates the settings against the store and the checkpoint and builds the tasks; no Spark work. */
  static List<InitTask> plan(JobContext ctx, Settings s, StoreIndex store, Path staging) {
    for (Method m : s.methods) {
      if (m == Method.LORA_DA) {
        s.loraDa.validate();
      }
      if (m == Method.LORA_ONE && (!(s.loraOneGamma > 0) || !Double.isFinite(s.loraOneGamma))) {
        throw new ArgumentException("Option 'lora-one-gamma' is " + s.loraOneGamma + ", expected a finite value > 0");
      }
      if (m == Method.SC_LORA) {
        if (s.betas.isEmpty()) {
          throw new ArgumentException("Option 'betas' is empty; SC-LoRA needs at least one β");
        }
        for (double b : s.betas) {
          if (!(b >= 0 && b <= 1)) {
            throw new ArgumentException("Option 'betas' has β = " + b + ", outside [0, 1]");
          }
        }
      }
      for (String[] role : new String[][] {{"dataset-plus", s.plusDataset, "D+"}, {"dataset-minus", s.minusDataset,
          "D−"}}) {
        boolean needed = role[2].equals("D+") ? m.needsPlus() : m.needsMinus();
        if (needed && !store.datasets().contains(role[1])) {
          throw new ArgumentException("Method " + m.id + " needs " + role[2] + " statistics: option '" + role[0]
              + "' is '" + role[1] + "', which is not in store " + store.location() + " (datasets: "
              + store.datasets() + ")");
        }
      }
    }
    String basePath = checkBase(s);
    List<Target> targets = new ArrayList<>();
    try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(java.nio.file.Path.of(basePath))) {
      Set<String> candidates = new LinkedHashSet<>();
      boolean allLinear = s.targetModules.size() == 1 && s.targetModules.get(0).equals("all-linear");
      candidates.addAll(store.modules());
      if (!allLinear) {
        for (String name : ckpt.tensorNames()) {
          if (name.endsWith(".weight") && ckpt.info(name).rank() == 2) {
            candidates.add(name.substring(0, name.length() - ".weight".length()));
          }
        }
      }
      for (String m : candidates) {
        if (!allLinear && !targets(s.targetModules, m)) {
          continue;
        }
        if (allLinear && m.endsWith("lm_head")) {
          continue;
        }
        Target t = new Target();
        t.module = m;
        t.weight = m + ".weight";
        if (!ckpt.contains(t.weight)) {
          throw new FormatException("Target module '" + m + "' is in the statistics store but the base checkpoint "
              + s.base + " has no tensor '" + t.weight + "'");
        }
        TensorInfo info = ckpt.info(t.weight);
        if (info.rank() != 2) {
          throw new FormatException("Target module '" + m + "': tensor '" + t.weight + "' of " + s.base + " has shape "
              + java.util.Arrays.toString(info.shape()) + ", expected a 2-D Linear weight [out, in]");
        }
        t.out = (int) info.dim(0);
        t.in = (int) info.dim(1);
        t.dtype = info.dtype();
        if (!t.dtype.isFloating()) {
          throw new FormatException("Tensor '" + t.weight + "' has dtype " + t.dtype + ", expected F32, BF16 or F16");
        }
        t.bias = ckpt.contains(m + ".bias") ? m + ".bias" : null;
        targets.add(t);
      }
    }
    if (targets.isEmpty()) {
      throw new ArgumentException("Option 'target-modules' " + s.targetModules + " matches no module of store "
          + store.location() + " or checkpoint " + s.base);
    }
    AdapterConfig config = baseConfig(s, List.of("placeholder"));
    List<InitTask> tasks = new ArrayList<>();
    for (Target t : targets) {
      for (String dataset : List.of(s.plusDataset, s.minusDataset)) {
        StoreIndex.Site site = store.siteOf(dataset, t.module);
        if (site != null && site.dim != t.in) {
          throw new FormatException("Statistics of site '" + site.site + "' (dataset '" + site.dataset + "', store "
              + store.location() + ") have dim " + site.dim + " but module '" + t.module + "' of checkpoint "
              + s.base + " has weight shape [" + t.out + ", " + t.in + "]");
        }
      }
      int r = config.rankOf(t.module);
      double scaling = config.scaling(t.module);
      if (r < 1 || r > Math.min(t.out, t.in)) {
        throw new ArgumentException("Rank r = " + r + " for module '" + t.module + "' is larger than its weight "
            + t.out + "×" + t.in + " allows (r ≤ " + Math.min(t.out, t.in) + ")");
      }
      for (Method m : s.methods) {
        InitTask task = new InitTask();
        task.module = t.module;
        task.method = m;
        task.r = r;
        task.scaling = scaling;
        task.weightTensor = t.weight;
        task.biasTensor = t.bias;
        task.base = basePath;
        task.store = store.location();
        task.betas = s.betas;
        task.solver = s.solver;
        task.staging = staging.toString();
        task.adapterDtype = s.adapterDtype;
        task.residualDtype = s.residualDtype;
        task.evaComponents = m == Method.EVA && s.evaRedistribute
            ? Math.min(t.in, (int) Math.round(s.evaRho * r)) : r;
        StoreIndex.Site plus = store.siteOf(s.plusDataset, t.module);
        StoreIndex.Site minus = store.siteOf(s.minusDataset, t.module);
        for (String[] role : new String[][] {{"plus", s.plusDataset}, {"minus", s.minusDataset}}) {
          StoreIndex.Site site = role[0].equals("plus") ? plus : minus;
          boolean needed = role[0].equals("plus") ? m.needsPlus() : m.needsMinus();
          if (site == null && needed) {
            throw new FormatException("Target module '" + t.module + "' has no statistics for dataset '" + role[1]
                + "' in store " + store.location() + " (method " + m.id + " needs them; the store's modules for '"
                + role[1] + "' are " + abbreviate(modulesOf(store, role[1])) + ")");
          }
        }
        if (plus != null) {
          task.plusFile = plus.file;
          task.plusSamples = plus.samples;
          task.plusTokens = plus.tokens;
          task.plusSumTokensSquared = plus.sumTokensSquared;
        }
        if (minus != null) {
          task.minusFile = minus.file;
          task.minusSamples = minus.samples;
          task.minusTokens = minus.tokens;
          task.minusSumTokensSquared = minus.sumTokensSquared;
        }
        if (m.needsGradients()) {
          StoreIndex.ModuleStats g = store.gradientsOf(s.plusDataset, t.module);
          if (g == null) {
            throw new FormatException("Target module '" + t.module + "' has no gradient statistics for dataset '"
                + s.plusDataset + "' in store " + store.location() + " (method " + m.id + " needs them: capture with "
                + "--gradients and run stats with gradients on; the store's modules with gradients for '"
                + s.plusDataset + "' are " + abbreviate(store.gradientModules(s.plusDataset)) + ")");
          }
          if (g.out != t.out || g.in != t.in) {
            throw new FormatException("Gradient statistics of module '" + t.module + "' (dataset '" + g.dataset
                + "', store " + store.location() + ") are " + g.out + "×" + g.in + " but its weight in checkpoint "
                + s.base + " is " + t.out + "×" + t.in);
          }
          if (!g.site.equals(plus.site) || g.tokens != plus.tokens) {
            throw new FormatException("Statistics of module '" + t.module + "' do not come from the same tokens: "
                + "gradients (" + g.file + ") read site '" + g.site + "' over " + g.tokens + " tokens, the input "
                + "statistics of dataset '" + s.plusDataset + "' (" + plus.file + ") are site '" + plus.site
                + "' over " + plus.tokens + " tokens; were statistics of different datasets or runs mixed?");
          }
          task.gradFile = g.file;
          task.gradDataset = g.dataset;
          task.gradSite = g.site;
          task.gradTokens = g.tokens;
          task.gradSamples = g.samples;
          task.loraDa = s.loraDa;
          task.loraOneGamma = s.loraOneGamma;
        }
        if (m == Method.SC_LORA) {
          for (double b : s.betas) {
            if (b == 1.0 && minus.samples < t.out - r) {
              throw new ArgumentException("SC-LoRA: β = 1 for module '" + t.module + "' with " + minus.samples
                  + " D− samples < out − r = " + (t.out - r) + " has no unique solution; use β < 1");
            }
          }
        }
        tasks.add(task);
      }
    }
    LOG.info("init: {} target modules × {} methods = {} tasks", targets.size(), s.methods.size(), tasks.size());
    return tasks;
  }

  private static List<String> modulesOf(StoreIndex store, String dataset) {
    List<String> out = new ArrayList<>();
    for (StoreIndex.Site site : store.sites()) {
      if (site.dataset.equals(dataset)) {
        out.addAll(site.modules);
      }
    }
    return out;
  }

  private static String abbreviate(List<String> names) {
    if (names.size() <= 6) {
      return names.toString();
    }
    return names.subList(0, 6) + " and " + (names.size() - 6) + " more";
  }

  static AdapterConfig baseConfig(Settings s, List<String> modules) {
    AdapterConfig c = AdapterConfig.lora(s.r, s.loraAlpha, modules);
    c.setUseRslora(s.useRslora);
    s.rankPattern.forEach(c::putRankPattern);
    s.alphaPattern.forEach(c::putAlphaPattern);
    c.setBaseModelNameOrPath(s.baseModelName != null ? s.baseModelName : s.base);
    if (s.taskType != null && !s.taskType.isEmpty()) {
      c.setTaskType(s.taskType);
    }
    return c;
  }

  /** Runs everything; outputs go under {@code outDir} (inside the run's staging directory). */
  public static JsonNode run(JobContext ctx, Settings s, Path outDir) throws Exception {
    long t0 = System.nanoTime();
    StoreIndex store;
    if (s.stats == null) {
      store = StoreIndex.none();
    } else {
      store = StoreIndex.load(ctx.hadoopConf(), s.stats);
      ctx.manifest().input(s.stats, "statistics store");
    }
    ctx.manifest().input(s.base, "base checkpoint");
    List<InitTask> tasks = plan(ctx, s, store, outDir);
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    JavaSparkContext jsc = ctx.jsc();
    io.loraspace.jobs.spark.DataErrors errors = ctx.dataErrors();
    ctx.describe("init: " + tasks.size() + " (module, method) eigensolves/SVDs");
    List<TaskResult> results = jsc.parallelize(tasks, Math.max(1, tasks.size()))
        .flatMap(t -> errors.guardOne(() -> TaskRunner.run(conf, t))).collect();
    ctx.manifest().timing("solve", (System.nanoTime() - t0) / 1e9);
    double taskSeconds = 0;
    for (TaskResult r : results) {
      taskSeconds += r.seconds;
    }
    LOG.info("init: {} tasks done, {} s of task time", results.size(), String.format("%.2f", taskSeconds));

    // Group variants by tag, modules in task order.
    Map<String, List<TaskResult.Variant>> byTag = new LinkedHashMap<>();
    Map<String, Method> methodOf = new LinkedHashMap<>();
    Map<String, List<String>> modulesOfTag = new LinkedHashMap<>();
    for (TaskResult r : results) {
      for (TaskResult.Variant v : r.variants) {
        byTag.computeIfAbsent(v.tag, k -> new ArrayList<>()).add(v);
        modulesOfTag.computeIfAbsent(v.tag, k -> new ArrayList<>()).add(r.module);
        methodOf.put(v.tag, r.method);
      }
    }
    FileSystem fs = outDir.getFileSystem(ctx.hadoopConf());
    ObjectNode summary = Manifest.json().createObjectNode();
    summary.put("stats", s.stats).put("base", s.base).put("plusDataset", s.plusDataset)
        .put("minusDataset", s.minusDataset);
    ArrayNode variants = summary.putArray("variants");
    for (Map.Entry<String, List<TaskResult.Variant>> e : byTag.entrySet()) {
      String tag = e.getKey();
      ctx.describe("init: assemble " + tag);
      ObjectNode vr = assemble(ctx, s, fs, outDir, tag, methodOf.get(tag), modulesOfTag.get(tag), e.getValue());
      variants.add(vr);
    }
    fs.delete(new Path(outDir, "_parts"), true);
    ctx.manifest().count("variants", byTag.size()).count("tasks", tasks.size());
    writeJson(fs, new Path(outDir, "report.json"), summary);
    try (OutputStream os = fs.create(new Path(outDir, "report.html"), true)) {
      os.write(InitReport.html(summary).getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().timing("init", (System.nanoTime() - t0) / 1e9);
    return summary;
  }

  private static ObjectNode assemble(JobContext ctx, Settings s, FileSystem fs, Path outDir, String tag,
      Method method, List<String> modules, List<TaskResult.Variant> parts) throws IOException {
    Map<String, Integer> ranks = new LinkedHashMap<>();
    for (int i = 0; i < modules.size(); i++) {
      ranks.put(modules.get(i), parts.get(i).r);
    }
    AdapterConfig config;
    ObjectNode vr = Manifest.json().createObjectNode();
    vr.put("tag", tag).put("method", method.id);
    if (method == Method.EVA && s.evaRedistribute) {
      Map<String, double[]> offered = new LinkedHashMap<>();
      int budget = 0;
      AdapterConfig base = baseConfig(s, List.of("placeholder"));
      for (int i = 0; i < modules.size(); i++) {
        offered.put(modules.get(i), parts.get(i).ratios);
        budget += base.rankOf(modules.get(i));
      }
      ranks = Eva.redistribute(offered, budget);
      List<String> kept = new ArrayList<>();
      ranks.forEach((m, r) -> {
        if (r > 0) {
          kept.add(m);
        }
      });
      config = baseConfig(s, kept);
      config.json().putObject("rank_pattern");
      config.json().putObject("alpha_pattern");
      for (String m : kept) {
        config.putRankPattern(m, ranks.get(m));
        if (s.evaAdjustScaling) {
          // Keep each module's scaling alpha/r of the uniform rank (PEFT's adjust_scaling_factors).
          config.putAlphaPattern(m, base.alphaOf(m) * ranks.get(m) / base.rankOf(m));
        } else {
          config.putAlphaPattern(m, base.alphaOf(m));
        }
      }
      ObjectNode rp = vr.putObject("rankPattern");
      ranks.forEach(rp::put);
      vr.put("variant", "rank redistribution (rho = " + s.evaRho + ")");
    } else {
      config = baseConfig(s, modules);
    }
    if (method == Method.LORA_DA) {
      vr.put("variant", s.loraDa.describe());
    } else if (method == Method.LORA_ONE) {
      vr.put("variant", "lora-one (SVD of the negative mean gradient" + (s.loraOneGamma == 1 ? ""
          : ", factors divided by √γ, γ = " + s.loraOneGamma) + ")");
    }
    if (method == Method.SC_LORA) {
      vr.put("beta", Double.parseDouble(tag.substring(tag.lastIndexOf('-') + 1)));
    }

    // Adapter: stream each module's part into one safetensors file.
    Path dir = new Path(outDir, tag);
    Path adapterDir = new Path(dir, "adapter");
    List<SafetensorsStreamWriter.Spec> specs = new ArrayList<>();
    for (int i = 0; i < modules.size(); i++) {
      String m = modules.get(i);
      int r = ranks.get(m);
      if (r == 0) {
        continue;
      }
      TaskResult.Variant v = parts.get(i);
      if (config.rankOf(m) != r) {
        throw new IllegalStateException("config rank " + config.rankOf(m) + " != " + r + " for " + m);
      }
      specs.add(new SafetensorsStreamWriter.Spec(AdapterDirectory.key(m, 'A'), v.adapterDtype, new long[] {r, v.in}));
      specs.add(new SafetensorsStreamWriter.Spec(AdapterDirectory.key(m, 'B'), v.adapterDtype, new long[] {v.out, r}));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("loraspace.method", method.id);
    meta.put("loraspace.variant", tag);
    try (OutputStream os = fs.create(new Path(adapterDir, AdapterDirectory.WEIGHTS), true)) {
      SafetensorsStreamWriter w = new SafetensorsStreamWriter(os, meta, specs);
      for (int i = 0; i < modules.size(); i++) {
        String m = modules.get(i);
        int r = ranks.get(m);
        if (r == 0) {
          continue;
        }
        TaskResult.Variant v = parts.get(i);
        long aBytes = (long) r * v.in * v.adapterDtype.size();
        try (InputStream in = fs.open(new Path(v.partFile))) {
          w.write(AdapterDirectory.key(m, 'A'), new LimitedInput(in, aBytes));
          if (r == v.r) {
            in.skipNBytes(v.aBytes - aBytes);
            w.write(AdapterDirectory.key(m, 'B'), new LimitedInput(in, v.bBytes));
          } else {
            w.write(AdapterDirectory.key(m, 'B'), new byte[(int) ((long) v.out * r * v.adapterDtype.size())]);
          }
        }
      }
      w.finish();
    }
    try (OutputStream os = fs.create(new Path(adapterDir, AdapterDirectory.CONFIG), true)) {
      os.write(config.toJson());
    }
    vr.put("adapter", tag + "/adapter");

    // Residual index.
    if (method.residual) {
      ObjectNode index = Manifest.json().createObjectNode();
      ObjectNode m = index.putObject("metadata");
      ObjectNode map = index.putObject("weight_map");
      long total = 0;
      for (TaskResult.Variant v : parts) {
        map.put(v.residualTensor, v.residualFile);
        total += v.residualBytes;
      }
      m.put("total_size", total);
      m.put("loraspace.method", method.id);
      m.put("loraspace.variant", tag);
      writeJson(fs, new Path(dir, "residual/" + ShardedCheckpoint.INDEX), index);
      vr.put("residual", tag + "/residual");
    }

    // Report.
    ArrayNode mods = vr.putArray("modules");
    double capPlus = 0;
    double capMinus = 0;
    int capCount = 0;
    for (TaskResult.Variant v : parts) {
      JsonNode rep = Manifest.json().readTree(v.reportJson);
      ObjectNode copy = (ObjectNode) rep;
      if (ranks.get(rep.get("module").asText()) != v.r) {
        copy.put("rank", ranks.get(rep.get("module").asText()));
      }
      mods.add(copy);
      if (rep.has("capturedPlus") && rep.has("capturedMinus")) {
        capPlus += rep.get("capturedPlus").asDouble();
        capMinus += rep.get("capturedMinus").asDouble();
        capCount++;
      }
    }
    if (capCount > 0) {
      vr.put("meanCapturedPlus", capPlus / capCount).put("meanCapturedMinus", capMinus / capCount);
    }
    writeJson(fs, new Path(dir, "report.json"), vr);
    LOG.info("init: wrote {} ({} modules)", tag, parts.size());
    return vr;
  }

  private static void writeJson(FileSystem fs, Path p, JsonNode n) throws IOException {
    try (OutputStream os = fs.create(p, true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
    }
  }

  /** At most {@code limit} bytes of an underlying stream (not closed). */
  static final class LimitedInput extends InputStream {
    private final InputStream in;
    private long left;

    LimitedInput(InputStream in, long limit) {
      this.in = in;
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(buf, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }
}
