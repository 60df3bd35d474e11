package io.loraspace.jobs.recycle;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.recycle.AdapterPca;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.inputs.AdapterCollection;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.output.SparkTableFiles;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The recycle job's driver (EigenLoRAx, METHODS.md): scans the collection's headers, validates, runs one Spark task
 * per module (PCA of A and of s·B, loadings, in-sample errors; writes the module's basis file), then leave-one-out
 * tasks per (module, factor, group of folds), and writes the basis config, loadings and LOO tables (Parquet) and
 * the report (JSON + HTML). The driver holds headers and per-adapter scalars, never factors.
 */
public final class RecyclePipeline {
  private static final Logger LOG = LoggerFactory.getLogger(RecyclePipeline.class);

  /** Settings from options. */
  public static final class Settings {
    public String adapters;
    public AdapterPca.Options pca = new AdapterPca.Options();
    public boolean leaveOneOut = true;
    public int foldsPerTask = 25;
    public int verifyFolds;
    public boolean skipCorrupt;
    /** Relative gap at K below which a module or fold is flagged (docs/recycle.md). */
    public double gapTolerance = 1e-3;
    public List<String> modules = List.of();
    public long seed = 1;
  }

  private RecyclePipeline() {}

  public static ObjectNode run(JobContext ctx, Settings s, Path outDir) throws Exception {
    long t0 = System.nanoTime();
    s.pca.validate();
    if (s.foldsPerTask < 1) {
      throw new ArgumentException("Option 'folds-per-task' is " + s.foldsPerTask + ", expected ≥ 1");
    }
    ctx.describe("recycle: scan adapter headers");
    AdapterCollection c = AdapterCollection.scan(ctx.hadoopConf(), s.adapters, s.skipCorrupt);
    ctx.manifest().input(s.adapters, "adapter collection");
    Map<String, int[]> shapes = c.moduleShapes();
    List<Pattern> patterns = new ArrayList<>();
    for (String m : s.modules) {
      patterns.add(Pattern.compile(m));
    }
    int n = c.adapters.size();
    if (s.leaveOneOut && n < 2) {
      throw new ArgumentException("Leave-one-out needs at least 2 adapters, collection '" + s.adapters + "' has " + n
          + (c.skipped.isEmpty() ? "" : " readable (" + c.skipped.size() + " skipped)")
          + "; set leave-one-out=false to fit the basis only");
    }
    List<RecycleTasks.ModuleTask> tasks = new ArrayList<>();
    for (Map.Entry<String, int[]> e : shapes.entrySet()) {
      String module = e.getKey();
      if (!patterns.isEmpty() && patterns.stream().noneMatch(p -> p.matcher(module).find())) {
        continue;
      }
      RecycleTasks.ModuleTask t = new RecycleTasks.ModuleTask();
      t.module = module;
      t.in = e.getValue()[0];
      t.out = e.getValue()[1];
      t.pca = s.pca;
      t.staging = outDir.toString();
      t.writeWork = s.leaveOneOut;
      long vectors = 0;
      for (int i = 0; i < n; i++) {
        AdapterCollection.Adapter a = c.adapters.get(i);
        int[] sh = a.shapes.get(module);
        if (sh != null) {
          t.adapterIndex.add(i);
          t.adapterDir.add(a.dir);
          t.ranks.add(sh[0]);
          t.scalings.add(a.scaling.get(module));
          vectors += sh[0];
        }
      }
      for (int d : new int[] {t.in, t.out}) {
        long maxK = Math.min(d, s.pca.center ? vectors - 1 : vectors);
        if (s.pca.components > maxK) {
          throw new ArgumentException("K = " + s.pca.components + " components for module '" + module + "' but its "
              + t.adapterIndex.size() + " adapters give " + vectors + " vectors of dim " + d + ": at most " + maxK
              + " components exist");
        }
      }
      tasks.add(t);
    }
    if (tasks.isEmpty()) {
      throw new ArgumentException("Option 'modules' " + s.modules + " matches no module of the collection");
    }
    LOG.info("recycle: {} adapters ({} skipped), {} modules", n, c.skipped.size(), tasks.size());
    HadoopConf conf = new HadoopConf(ctx.hadoopConf());
    JavaSparkContext jsc = ctx.jsc();
    io.loraspace.jobs.spark.DataErrors errors = ctx.dataErrors();

    ctx.describe("recycle: PCA of " + tasks.size() + " modules × (A, B) over " + n + " adapters");
    JavaRDD<RecycleTasks.ModuleResult> results = jsc.parallelize(tasks, tasks.size())
        .flatMap(t -> errors.guardOne(() -> RecycleTasks.runModule(conf, t))).persist(StorageLevel.MEMORY_AND_DISK());
    List<String> names = new ArrayList<>();
    c.adapters.forEach(a -> names.add(a.dir));

    // Loadings table, written from the executors.
    StructType loadSchema = new StructType().add("adapter", DataTypes.StringType, false)
        .add("module", DataTypes.StringType, false).add("factor", DataTypes.StringType, false)
        .add("vector", DataTypes.IntegerType, false)
        .add("loadings", DataTypes.createArrayType(DataTypes.DoubleType, false), false);
    JavaRDD<Row> loadRows = results.flatMap(r -> {
      List<Row> rows = new ArrayList<>();
      for (RecycleTasks.FactorResult f : r.factors) {
        for (int i = 0; i < r.adapterIndex.size(); i++) {
          int rank = r.ranks.get(i);
          double[] l = f.loadings.get(i); // size × rank, row-major
          for (int v = 0; v < rank; v++) {
            Double[] col = new Double[f.size];
            for (int k = 0; k < f.size; k++) {
              col[k] = l[k * rank + v];
            }
            rows.add(RowFactory.create(names.get(r.adapterIndex.get(i)), r.module, String.valueOf(f.factor), v,
                scala.jdk.javaapi.CollectionConverters.asScala(Arrays.asList(col)).toSeq()));
          }
        }
      }
      return rows.iterator();
    });
    Dataset<Row> loadings = ctx.spark().createDataFrame(loadRows, loadSchema);
    loadings.write().parquet(new Path(outDir, "loadings").toString());
    SparkTableFiles.canonicalNames(outDir.getFileSystem(ctx.hadoopConf()), new Path(outDir, "loadings"));

    // Summaries to the driver (no factors, no loadings).
    List<Summary> summaries = results.map(Summary::of).collect();
    ctx.manifest().timing("pca", (System.nanoTime() - t0) / 1e9);

    // Leave-one-out.
    List<RecycleTasks.FoldResult> folds = new ArrayList<>();
    if (s.leaveOneOut) {
      List<RecycleTasks.FoldTask> foldTasks = new ArrayList<>();
      Random rnd = new Random(s.seed);
      for (Summary sm : summaries) {
        int m = sm.adapterIndex.size();
        List<Integer> verify = new ArrayList<>();
        if (s.verifyFolds > 0 && m >= 2) {
          List<Integer> all = new ArrayList<>();
          for (int i = 0; i < m; i++) {
            all.add(i);
          }
          Collections.shuffle(all, rnd);
          verify = all.subList(0, Math.min(m, s.verifyFolds));
        }
        for (int fi = 0; fi < 2; fi++) {
          for (int from = 0; from < m; from += s.foldsPerTask) {
            RecycleTasks.FoldTask ft = new RecycleTasks.FoldTask();
            ft.module = sm.module;
            ft.factor = RecycleTasks.FACTORS[fi];
            ft.workFile = sm.workFile;
            ft.principal = sm.principal[fi];
            ft.center = s.pca.center;
            ft.adapterIndex = sm.adapterIndex;
            ft.adapterDir = new ArrayList<>();
            sm.adapterIndex.forEach(a -> ft.adapterDir.add(names.get(a)));
            ft.ranks = sm.ranks;
            ft.from = from;
            ft.to = Math.min(m, from + s.foldsPerTask);
            for (int v : verify) {
              if (v >= ft.from && v < ft.to) {
                ft.verify.add(v);
              }
            }
            foldTasks.add(ft);
          }
        }
      }
      ctx.describe("recycle: leave-one-out, " + foldTasks.size() + " tasks of ≤ " + s.foldsPerTask + " folds");
      long l0 = System.nanoTime();
      folds = jsc.parallelize(foldTasks, foldTasks.size()).flatMap(t -> errors.guard(() -> RecycleTasks.runFolds(conf, t).iterator()))
          .collect();
      double ls = (System.nanoTime() - l0) / 1e9;
      ctx.manifest().timing("leave-one-out", ls);
      LOG.info("recycle: {} leave-one-out folds in {} s ({} folds/s)", folds.size(), String.format("%.1f", ls),
          String.format("%.1f", folds.size() / Math.max(ls, 1e-9)));
      FileSystem fs = outDir.getFileSystem(ctx.hadoopConf());
      fs.delete(new Path(outDir, "_work"), true);
    }
    results.unpersist();

    // LOO / error table: one row per (adapter, module, factor).
    Map<String, RecycleTasks.FoldResult> foldOf = new HashMap<>();
    for (RecycleTasks.FoldResult f : folds) {
      foldOf.put(f.adapter + "|" + f.module + "|" + f.factor, f);
    }
    List<Row> errRows = new ArrayList<>();
    for (Summary sm : summaries) {
      for (int fi = 0; fi < 2; fi++) {
        char factor = RecycleTasks.FACTORS[fi];
        for (int i = 0; i < sm.adapterIndex.size(); i++) {
          int a = sm.adapterIndex.get(i);
          RecycleTasks.FoldResult f = foldOf.get(a + "|" + sm.module + "|" + factor);
          errRows.add(RowFactory.create(names.get(a), sm.module, String.valueOf(factor), sm.ranks.get(i),
              sm.inSample[fi][i], f == null ? null : f.heldOut, f == null ? null : f.components,
              f == null ? null : f.solver, f == null || Double.isNaN(f.gap) ? null : f.gap,
              f == null ? null : RecycleReport.smallGap(f.gap, s.gapTolerance)));
        }
      }
    }
    StructType errSchema = new StructType().add("adapter", DataTypes.StringType, false)
        .add("module", DataTypes.StringType, false).add("factor", DataTypes.StringType, false)
        .add("rank", DataTypes.IntegerType, false).add("in_sample_error", DataTypes.DoubleType, false)
        .add("held_out_error", DataTypes.DoubleType, true).add("fold_components", DataTypes.IntegerType, true)
        .add("fold_solver", DataTypes.StringType, true).add("fold_gap_at_k", DataTypes.DoubleType, true)
        .add("fold_small_gap", DataTypes.BooleanType, true);
    ctx.spark().createDataFrame(errRows, errSchema).coalesce(1).write()
        .parquet(new Path(outDir, "errors").toString());
    SparkTableFiles.canonicalNames(outDir.getFileSystem(ctx.hadoopConf()), new Path(outDir, "errors"));

    ObjectNode report = RecycleReport.summary(s, c, summaries, folds);
    FileSystem fs = outDir.getFileSystem(ctx.hadoopConf());
    try (OutputStream os = fs.create(new Path(outDir, "basis/config.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(RecycleReport.basisConfig(s, c,
          summaries)));
    }
    try (OutputStream os = fs.create(new Path(outDir, "report.json"), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }
    try (OutputStream os = fs.create(new Path(outDir, "report.html"), true)) {
      os.write(RecycleReport.html(report).getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().count("adapters", n).count("skipped", c.skipped.size()).count("modules", summaries.size())
        .count("folds", folds.size());
    if (!c.skipped.isEmpty()) {
      ObjectNode sk = Manifest.json().createObjectNode();
      c.skipped.forEach(sk::put);
      ctx.manifest().section("skippedAdapters", sk);
    }
    ctx.manifest().timing("recycle", (System.nanoTime() - t0) / 1e9);
    return report;
  }

  /** What the driver keeps of a module's result. */
  static final class Summary implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    List<Integer> adapterIndex;
    List<Integer> ranks;
    String workFile;
    int[] dim = new int[2];
    long[] vectors = new long[2];
    int[] principal = new int[2];
    int[] size = new int[2];
    double[][] ratios = new double[2][];
    double[][] spectrumRatios = new double[2][];
    double[][] inSample = new double[2][];
    double[] gap = new double[2];
    double seconds;

    static Summary of(RecycleTasks.ModuleResult r) {
      Summary s = new Summary();
      s.module = r.module;
      s.adapterIndex = r.adapterIndex;
      s.ranks = r.ranks;
      s.workFile = r.workFile;
      s.seconds = r.seconds;
      for (int i = 0; i < 2; i++) {
        RecycleTasks.FactorResult f = r.factors[i];
        s.dim[i] = f.dim;
        s.vectors[i] = f.vectors;
        s.principal[i] = f.principal;
        s.size[i] = f.size;
        s.gap[i] = f.gap;
        s.ratios[i] = f.ratios;
        if (f.spectrum != null) {
          int keep = Math.min(f.spectrum.length, 512);
          s.spectrumRatios[i] = new double[keep];
          for (int k = 0; k < keep; k++) {
            s.spectrumRatios[i][k] = f.total > 0 ? Math.max(0, f.spectrum[k]) / f.total : 0;
          }
        }
        s.inSample[i] = f.inSample;
      }
      return s;
    }
  }

  static Map<String, Summary> byModule(List<Summary> l) {
    Map<String, Summary> m = new TreeMap<>();
    l.forEach(x -> m.put(x.module, x));
    return m;
  }
}
