package io.loraspace.jobs.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.merge.CoefficientRules;
import io.loraspace.common.merge.GridDesign;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import java.util.List;

/**
 * {@code loraspace merge}: theory-optimal merge coefficients for LoRA adapters on a linear head (seed 002, Theorems 3.2
 * and 3.3), the margins they predict, a grid of coefficients measured on the data in one pass, the merged head and a
 * PEFT adapter applying the merge (docs/merge.md). See {@link MergePipeline} for the data flow.
 */
public final class MergeJob implements Job {
  /** The resolved options. */
  static final class Settings {
    String checkpoint;
    String head;
    List<String> adapters;
    List<String> preData;
    List<String> taskData;
    String featureColumn;
    String labelColumn;
    String coefficients;
    double[] alphas;
    GridDesign grid;
    int gridSize;
    double gridMin;
    Double gridMax;
    long maxGridPoints;
    long seed;
    double orthogonalityTolerance;
    double normTolerance;
  }

  @Override
  public String name() {
    return "merge";
  }

  @Override
  public String summary() {
    return "theory-optimal merge coefficients and margins for LoRA adapters on a linear head, grid-validated";
  }

  @Override
  public String defaultOutput() {
    return "out/merge";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("head-checkpoint", OptionType.STRING, null, "Checkpoint holding the head: a directory (sharded or "
            + "model.safetensors) or a .safetensors file; local, hdfs:// or s3a://")
        .option("head", OptionType.STRING, null, "Name of the head's weight tensor [classes, features], e.g. "
            + "classifier.weight; the adapters must adapt its module")
        .option("adapters", OptionType.STRING_LIST, null, "PEFT adapter directories on the head, one per task")
        .option("pre-data", OptionType.STRING_LIST, null, "Pre-training features D_pre: Parquet files, directories or "
            + "globs (docs/merge.md, 'Feature data')")
        .option("task-data", OptionType.STRING_LIST, null, "One Parquet location (file, directory or glob) per "
            + "adapter, in the order of 'adapters': the features of its task")
        .option("feature-column", OptionType.STRING, "features", "Column of the feature vectors (list of float/double)")
        .option("label-column", OptionType.STRING, "label", "Column of the integer labels, in [0, classes)")
        .choice("coefficients", "optimal", CoefficientRules.names(), "Which rule's coefficients the merged head and "
            + "adapter use: optimal (Theorem 3.3), sum (all 1), explicit ('alphas'), grid-best")
        .option("alphas", OptionType.DOUBLE_LIST, "", "Coefficients of the 'explicit' rule, one per adapter (also "
            + "measured and reported when another rule is chosen)")
        .choice("grid", "lattice", GridDesign.names(), "Validation grid: lattice (grid-size per adapter, every "
            + "combination) or random (grid-size points)")
        .intOption("grid-size", 50, 1, 1 << 24, "Lattice values per adapter, or random points")
        .option("grid-min", OptionType.DOUBLE, "0", "Lower end of the grid box (excluded)", v -> (Double) v >= 0,
            "a number ≥ 0")
        .option("grid-max", OptionType.STRING, "auto", "Upper end of the grid box (included): a number, or auto = "
            + "2·max α* (1 when α* is undefined)", v -> v.equals("auto") || positive((String) v),
            "'auto' or a positive number")
        .longOption("max-grid-points", 250_000, 1, Long.MAX_VALUE, "Refuse grids with more points (each sample "
            + "evaluates every point)")
        .option("seed", OptionType.LONG, "1", "Seed of the random grid")
        .option("orthogonality-tolerance", OptionType.DOUBLE, "0.05", "Largest leakage (‖W_pre x‖/ρ·‖x‖ on task "
            + "data, ‖ΔW_i x‖/Θ_i·‖x‖ on other data, Frobenius cosines) for which tasks count as orthogonal",
            v -> (Double) v >= 0, "a number ≥ 0")
        .option("norm-tolerance", OptionType.DOUBLE, "0.01", "Largest |‖x‖ − 1| for which features count as unit-norm",
            v -> (Double) v >= 0, "a number ≥ 0")
        .build();
  }

  private static boolean positive(String v) {
    try {
      double d = Double.parseDouble(v);
      return d > 0 && Double.isFinite(d);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static Settings settings(Options o) {
    Settings s = new Settings();
    s.checkpoint = o.requireString("head-checkpoint");
    s.head = o.requireString("head");
    s.adapters = o.getStringList("adapters");
    s.preData = o.getStringList("pre-data");
    s.taskData = o.getStringList("task-data");
    if (s.adapters.isEmpty()) {
      throw new ArgumentException("Option 'adapters' is empty: give one PEFT adapter directory per task");
    }
    s.featureColumn = o.requireString("feature-column");
    s.labelColumn = o.requireString("label-column");
    s.coefficients = o.getString("coefficients");
    List<Double> a = o.getDoubleList("alphas");
    if (!a.isEmpty()) {
      if (a.size() != s.adapters.size()) {
        throw new ArgumentException("Option 'alphas' has " + a.size() + " values for " + s.adapters.size()
            + " adapters");
      }
      s.alphas = a.stream().mapToDouble(Double::doubleValue).toArray();
    } else if (s.coefficients.equals("explicit")) {
      throw new ArgumentException("Option 'coefficients' is 'explicit' but 'alphas' is empty");
    }
    s.grid = GridDesign.get(o.getString("grid"));
    s.gridSize = o.getInt("grid-size");
    s.gridMin = o.getDouble("grid-min");
    s.gridMax = o.getString("grid-max").equals("auto") ? null : Double.parseDouble(o.getString("grid-max"));
    if (s.gridMax != null && s.gridMax <= s.gridMin) {
      throw new ArgumentException("Option 'grid-max' is " + s.gridMax + ", expected more than grid-min = "
          + s.gridMin);
    }
    s.maxGridPoints = o.getLong("max-grid-points");
    long points;
    try {
      points = s.grid.count(s.adapters.size(), s.gridSize);
    } catch (ArithmeticException e) {
      points = Long.MAX_VALUE;
    }
    if (points > s.maxGridPoints) {
      throw new ArgumentException("The " + s.grid.name() + " grid has " + points + " points for "
          + s.adapters.size() + " adapters (grid-size " + s.gridSize + "), more than max-grid-points = "
          + s.maxGridPoints + ": lower grid-size or use grid=random");
    }
    s.seed = o.getLong("seed");
    s.orthogonalityTolerance = o.getDouble("orthogonality-tolerance");
    s.normTolerance = o.getDouble("norm-tolerance");
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    MergePipeline.run(ctx, settings(ctx.options()));
  }
}
