package io.loraspace.jobs.merge;

import io.loraspace.common.merge.CoefficientRule;
import io.loraspace.common.merge.CoefficientRules;
import io.loraspace.common.merge.MarginGrid;
import io.loraspace.common.merge.MergeTheory;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.spark.DataErrors;
import io.loraspace.jobs.spark.HadoopConf;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The merge job's data flow.
 *
 * <ol>
 *   <li>Driver, before Spark: head tensor, adapters and feature footers read and checked ({@link MergeInputs}).
 *   <li>Pass 1, one task per feature file ({@link MergePasses#project}): every sample projected onto the head's
 *       components (kept on the executors); per component and dataset the margin, the worst sample and accuracy;
 *       feature norms and leakage. Driver: ρ_pre, Θ_i (Frobenius Gram of the components), γ_pre, γ_i, Theorem 3.3's
 *       α* and the assumption checks ({@link MergeChecks}).
 *   <li>Pass 2 over the projections: every coefficient vector (the rules', Theorem 3.2's single-adapter points, the
 *       grid) on every sample, in one pass.
 *   <li>Driver: measured beside predicted for every point, the grid's best point, the merged head and adapter of the
 *       chosen rule ({@link MergeOutputs}), report.json and report.html ({@link MergeReport}).
 * </ol>
 */
final class MergePipeline {
  private static final Logger LOG = LoggerFactory.getLogger(MergePipeline.class);

  private MergePipeline() {}

  /** Everything the report and the outputs are made of. */
  static final class Result {
    MergeJob.Settings settings;
    MergeInputs inputs;
    long[] samples;
    double[] gram;
    MergeTheory theory;
    List<MergeChecks.Check> checks;
    List<MergeEvaluation> rules = new ArrayList<>();
    Map<String, String> ruleReasons = new LinkedHashMap<>();
    List<MergeEvaluation> singles = new ArrayList<>();
    List<MergeEvaluation> grid = new ArrayList<>();
    int gridBest = -1;
    double gridLo;
    double gridHi;
    CoefficientRule.Choice chosen;
    List<String> files = new ArrayList<>();
  }

  static void run(JobContext ctx, MergeJob.Settings s) throws Exception {
    long t0 = System.nanoTime();
    java.nio.file.Path tmp = Files.createTempDirectory("loraspace-merge-");
    try {
      Result r = new Result();
      r.settings = s;
      MergeInputs in = MergeInputs.load(ctx.hadoopConf(), s, tmp);
      r.inputs = in;
      ctx.manifest().input(s.checkpoint, "head " + s.head + " " + in.head.shapeString() + " " + in.headDtype);
      s.adapters.forEach(a -> ctx.manifest().input(a, "adapter"));
      List<MergePasses.FileTask> tasks = new ArrayList<>();
      for (int d = 0; d < in.datasets.size(); d++) {
        MergeInputs.Dataset ds = in.datasets.get(d);
        for (String f : ds.files()) {
          tasks.add(new MergePasses.FileTask(d, r.files.size(), f));
          r.files.add(f);
          ctx.manifest().input(f, ds.name());
        }
      }
      int k = in.decomposition.classes();
      int comps = in.decomposition.components();
      int nd = in.datasets.size();
      LOG.info("merge: head {} {}, {} adapters, {} datasets in {} files", s.head, in.head.shapeString(),
          in.adapters.size(), nd, tasks.size());

      JavaSparkContext jsc = ctx.jsc();
      HadoopConf conf = new HadoopConf(ctx.hadoopConf());
      DataErrors errors = ctx.dataErrors();
      MergePasses.Projector projector = new MergePasses.Projector(in.decomposition, s.featureColumn, s.labelColumn,
          nd);
      ctx.describe("merge: pass 1, project " + tasks.size() + " files onto the head's " + comps + " components");
      JavaRDD<MergePasses.Projected> projected = jsc.parallelize(tasks, Math.max(1, tasks.size()))
          .flatMap(t -> errors.guardOne(() -> MergePasses.project(conf, t, projector)))
          .persist(StorageLevel.MEMORY_AND_DISK());
      MergePasses.Totals totals = projected.aggregate(new MergePasses.Totals(k, comps, nd), MergePasses.Totals::add,
          MergePasses.Totals::merge);
      errors.throwIfRecorded(null);
      ctx.manifest().timing("pass1", (System.nanoTime() - t0) / 1e9);

      r.samples = new long[nd];
      for (int d = 0; d < nd; d++) {
        r.samples[d] = totals.components.count(d);
        ctx.manifest().count("samples." + in.datasets.get(d).name(), r.samples[d]);
      }
      r.gram = in.decomposition.frobeniusGram();
      double rho = Math.sqrt(r.gram[0]);
      double gammaPre = totals.components.margin(0, 0) / rho;
      double[] gamma = new double[comps - 1];
      double[] theta = new double[comps - 1];
      String[] worstTask = new String[comps - 1];
      for (int i = 1; i < comps; i++) {
        theta[i - 1] = Math.sqrt(r.gram[i * comps + i]);
        gamma[i - 1] = totals.components.margin(i, i) / theta[i - 1];
        worstTask[i - 1] = sample(r, totals.components.argmin(i, i), totals.components.margin(i, i));
      }
      r.theory = new MergeTheory(rho, gammaPre, gamma, theta);
      List<String> names = new ArrayList<>();
      in.datasets.forEach(d -> names.add(d.name()));
      r.checks = MergeChecks.of(r.theory, totals.geometry, r.gram, names,
          sample(r, totals.components.argmin(0, 0), totals.components.margin(0, 0)), worstTask,
          s.orthogonalityTolerance, s.normTolerance);
      if (!r.theory.defined()) {
        LOG.warn("merge: α* is undefined: {}", r.theory.undefinedReason());
      }

      // Points of pass 2: the rules that need no grid, Theorem 3.2's single-adapter points, the grid.
      List<String[]> labels = new ArrayList<>();
      List<double[]> alphas = new ArrayList<>();
      List<int[]> unions = new ArrayList<>();
      int[] all = new int[nd];
      for (int d = 0; d < nd; d++) {
        all[d] = d;
      }
      CoefficientRule.Evidence before = new CoefficientRule.Evidence(r.theory, s.alphas, null);
      for (CoefficientRule rule : CoefficientRules.all()) {
        CoefficientRule.Choice c = rule.needsGrid() ? null : rule.choose(before);
        if (c != null && c.defined()) {
          labels.add(new String[] {"rule", rule.name()});
          alphas.add(c.alpha());
          unions.add(all);
        } else if (c != null) {
          r.ruleReasons.put(rule.name(), c.reason());
        }
      }
      for (int i = 0; i < comps - 1; i++) {
        double[] trained = new double[comps - 1];
        trained[i] = 1;
        labels.add(new String[] {"single", "adapter " + (i + 1) + " as trained"});
        alphas.add(trained);
        unions.add(new int[] {0, i + 1});
        if (r.theory.defined()) {
          double[] best = new double[comps - 1];
          best[i] = r.theory.singleTaskBestTheta(i) / theta[i];
          labels.add(new String[] {"single", "adapter " + (i + 1) + " at Θ = ρ_pre γ_pre / γ_" + (i + 1)});
          alphas.add(best);
          unions.add(new int[] {0, i + 1});
        }
      }
      int firstGrid = labels.size();
      r.gridLo = s.gridMin;
      r.gridHi = s.gridMax != null ? s.gridMax : defaultGridMax(r.theory, s.gridMin);
      double[] gridPoints = s.grid.points(comps - 1, r.gridLo, r.gridHi, s.gridSize, s.seed);
      int gridCount = gridPoints.length / (comps - 1);
      double[] coeff = new double[(firstGrid + gridCount) * comps];
      for (int p = 0; p < firstGrid; p++) {
        coeff[p * comps] = 1;
        System.arraycopy(alphas.get(p), 0, coeff, p * comps + 1, comps - 1);
      }
      for (int g = 0; g < gridCount; g++) {
        coeff[(firstGrid + g) * comps] = 1;
        System.arraycopy(gridPoints, g * (comps - 1), coeff, (firstGrid + g) * comps + 1, comps - 1);
      }
      ctx.describe("merge: pass 2, " + (firstGrid + gridCount) + " coefficient vectors on every sample");
      long t1 = System.nanoTime();
      MarginGrid measured = projected.aggregate(new MarginGrid(k, comps, nd, coeff), MergePasses::evaluate,
          MarginGrid::merge);
      errors.throwIfRecorded(null);
      projected.unpersist();
      ctx.manifest().timing("pass2", (System.nanoTime() - t1) / 1e9);
      ctx.manifest().count("gridPoints", gridCount).count("evaluatedPoints", firstGrid + gridCount)
          .count("files", tasks.size());

      for (int p = 0; p < firstGrid; p++) {
        MergeEvaluation e = new MergeEvaluation(labels.get(p)[0], labels.get(p)[1], alphas.get(p), unions.get(p),
            measured, p, r.gram, r.theory);
        (e.kind.equals("rule") ? r.rules : r.singles).add(e);
      }
      for (int g = 0; g < gridCount; g++) {
        double[] a = java.util.Arrays.copyOfRange(gridPoints, g * (comps - 1), (g + 1) * (comps - 1));
        MergeEvaluation e = new MergeEvaluation("grid", Integer.toString(g), a, all, measured, firstGrid + g,
            r.gram, r.theory);
        r.grid.add(e);
        if (r.gridBest < 0 || e.unionMargin > r.grid.get(r.gridBest).unionMargin) {
          r.gridBest = g;
        }
      }
      MergeEvaluation best = r.grid.get(r.gridBest);
      CoefficientRule.Evidence after = new CoefficientRule.Evidence(r.theory, s.alphas, best.alpha);
      for (CoefficientRule rule : CoefficientRules.all()) {
        if (rule.needsGrid()) {
          r.rules.add(new MergeEvaluation("rule", rule.name(), rule.choose(after).alpha(), all, measured,
              firstGrid + r.gridBest, r.gram, r.theory));
        }
      }
      r.chosen = CoefficientRules.get(s.coefficients).choose(after);
      MergeOutputs.write(ctx, r);
      MergeReport.write(ctx, r);
      ctx.manifest().timing("merge", (System.nanoTime() - t0) / 1e9);
    } finally {
      FileUtil.fullyDelete(tmp.toFile());
    }
  }

  /** {@code 2·max α*} when α* is defined, else 1 (the paper's box); never below {@code lo}. */
  static double defaultGridMax(MergeTheory t, double lo) {
    double hi = 1;
    if (t.defined()) {
      hi = 0;
      for (double a : t.optimalAlpha()) {
        hi = Math.max(hi, 2 * a);
      }
    }
    return hi > lo ? hi : lo + 1;
  }

  /** "file row R (margin m)" for a sample key, or "no samples". */
  static String sample(Result r, long key, double margin) {
    if (key < 0) {
      return "no samples";
    }
    return r.files.get(MergePasses.fileOf(key)) + " row " + MergePasses.rowOf(key) + " (unnormalized margin "
        + MergeChecks.fmt(margin) + ")";
  }
}
