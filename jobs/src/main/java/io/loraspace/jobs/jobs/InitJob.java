package io.loraspace.jobs.jobs;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.init.EigenSolver;
import io.loraspace.common.init.LoraDa;
import io.loraspace.common.io.Dtype;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.cli.OptionType;
import io.loraspace.jobs.cli.Options;
import io.loraspace.jobs.init.InitPipeline;
import io.loraspace.jobs.init.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code init}: data-aware LoRA initialisations from a statistics store and a base checkpoint: SC-LoRA for a list of
 * β from one statistics pass, CorDA (IPA/KPA), EVA and PiSSA. Writes per (method, parameters) a PEFT adapter
 * directory, residual weights where the method needs them, and reports (docs/init.md).
 */
public final class InitJob implements Job {
  @Override
  public String name() {
    return "init";
  }

  @Override
  public String summary() {
    return "SC-LoRA (list of beta), CorDA, EVA, PiSSA, LoRA-DA, LoRA-One adapters from a statistics store and a base checkpoint";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .option("stats", OptionType.STRING, "", "Statistics store written by the stats job (local, hdfs://, s3a://); "
            + "required unless every method is data-free (pissa)")
        .option("base", OptionType.STRING, null, "Base checkpoint: a directory with model.safetensors(.index.json) "
            + "or one .safetensors file, on a file system every executor mounts")
        .option("base-model-name", OptionType.STRING, "", "base_model_name_or_path written into adapter configs "
            + "(empty: the base path)")
        .option("target-modules", OptionType.STRING_LIST, "all-linear", "PEFT target_modules: names matched as "
            + "equal or dotted suffix, re:REGEX for a full-match regex, or all-linear (every module of the store)")
        .intOption("r", 16, 1, 1 << 16, "LoRA rank r")
        .option("rank-pattern", OptionType.STRING_LIST, "", "PEFT rank_pattern entries PATTERN=R")
        .option("lora-alpha", OptionType.DOUBLE, "16", "lora_alpha (scaling s = alpha / r)")
        .option("alpha-pattern", OptionType.STRING_LIST, "", "PEFT alpha_pattern entries PATTERN=ALPHA")
        .option("use-rslora", OptionType.BOOLEAN, "false", "s = alpha / sqrt(r)")
        .option("methods", OptionType.STRING_LIST, "sc-lora", "Methods: sc-lora, corda-ipa, corda-kpa, eva, pissa, lora-da, "
            + "lora-one")
        .option("betas", OptionType.DOUBLE_LIST, "0.5", "SC-LoRA β values in [0, 1], all from one statistics pass")
        .option("dataset-plus", OptionType.STRING, "plus", "Dataset of the store that is D+ (the fine-tuning data)")
        .option("dataset-minus", OptionType.STRING, "minus", "Dataset of the store that is D− (knowledge to "
            + "preserve)")
        .choice("eigensolver", "auto", List.of("auto", "full", "partial"), "Eigenpairs and singular triplets: full "
            + "(LAPACK dsyevr on the index range, dgesdd), partial (block Lanczos; for CorDA and PiSSA verified by a "
            + "sin θ bound ≤ 1e-8), or auto (partial when d ≥ 512 and r ≤ d/64, falling back to full when it has not "
            + "converged in 12 restarts or is not verified)")
        .option("eva-redistribute", OptionType.BOOLEAN, "false", "EVA: redistribute ranks across modules by explained"
            + " variance (PEFT's rho)")
        .option("eva-rho", OptionType.DOUBLE, "2.0", "EVA: each module offers round(rho·r) components",
            v -> (Double) v >= 1.0, "a double ≥ 1")
        .option("eva-adjust-scaling", OptionType.BOOLEAN, "true", "EVA redistribution: keep alpha/r of the uniform "
            + "rank through alpha_pattern")
        .choice("adapter-dtype", "F32", List.of("F32", "BF16", "F16"), "dtype of lora_A/lora_B")
        .choice("residual-dtype", "base", List.of("base", "F32", "BF16", "F16"), "dtype of residual weights (base: "
            + "each weight's own dtype)")
        .option("lora-da-n", OptionType.LONG, "0", "LoRA-DA: N, the size of the fine-tuning set (required with "
            + "lora-da; not the number of statistics samples)")
        .option("lora-da-z-damping", OptionType.DOUBLE, "1e-3", "LoRA-DA: δ_z = this · mean(diag Z) added to Z = T/n_tok"
            + " (0: off)")
        .option("lora-da-y-damping", OptionType.DOUBLE, "1e-3", "LoRA-DA: δ_y = this · mean(y) added to the "
            + "output-gradient diagonal y (0: off)")
        .option("lora-da-variance-weight", OptionType.DOUBLE, "1", "LoRA-DA: weight of Ω's variance term "
            + "(Σ 1/y_i) Z⁻¹ / N (0: the no-variance ablation)")
        .option("lora-da-bias-weight", OptionType.DOUBLE, "1", "LoRA-DA: weight of Ω's bias term Δ Δᵀ (0: the "
            + "no-bias ablation)")
        .choice("lora-da-displacement", "fisher", List.of("fisher", "gradient"), "LoRA-DA: Δ = −Z⁻¹ Ḡᵀ diag(1/y) "
            + "(fisher) or the raw-gradient ablation Δ = −Ḡᵀ")
        .option("lora-da-gamma", OptionType.DOUBLE, "1", "LoRA-DA: divide the initial update by γ (1: the paper)")
        .option("lora-one-gamma", OptionType.DOUBLE, "1", "LoRA-One: divide both factors by √γ, i.e. the step by γ "
            + "(1: plain; the public code's stable scaling uses e.g. 64)")
        .option("task-type", OptionType.STRING, "CAUSAL_LM", "PEFT task_type of the adapter configs (empty: none)")
        .build();
  }

  /** The pipeline settings of validated options. */
  public static InitPipeline.Settings settings(Options o) {
    String stats = o.getString("stats");
    InitPipeline.Settings s = settings(o, stats == null || stats.isEmpty() ? null : stats);
    if (s.stats == null) {
      for (Method m : s.methods) {
        if (m.needsPlus() || m.needsMinus() || m.needsGradients()) {
          throw new ArgumentException("Option 'stats' is required by method " + m.id + " (a statistics store "
              + "written by the stats job; only pissa needs none): set it in the conf file or with --set stats=...");
        }
      }
      if (s.targetModules.equals(List.of("all-linear"))) {
        throw new ArgumentException("Option 'target-modules' is all-linear, which takes the store's modules; without "
            + "option 'stats' name the modules (e.g. --set target-modules=q_proj,v_proj)");
      }
    }
    return s;
  }

  /**
   * The pipeline settings of validated options, reading the store at {@code stats} (option 'stats' not used; null:
   * no store, for data-free methods).
   */
  public static InitPipeline.Settings settings(Options o, String stats) {
    InitPipeline.Settings s = new InitPipeline.Settings();
    s.stats = stats;
    s.base = o.requireString("base");
    s.baseModelName = o.getString("base-model-name").isEmpty() ? null : o.getString("base-model-name");
    s.targetModules = o.getStringList("target-modules");
    if (s.targetModules.isEmpty()) {
      throw new ArgumentException("Option 'target-modules' is empty");
    }
    s.r = o.getInt("r");
    s.loraAlpha = o.getDouble("lora-alpha");
    s.useRslora = o.getBoolean("use-rslora");
    Map<String, Integer> rp = new LinkedHashMap<>();
    InitPipeline.parsePatterns("rank-pattern", o.getStringList("rank-pattern")).forEach((k, v) -> {
      try {
        rp.put(k, Integer.parseInt(v));
      } catch (NumberFormatException e) {
        throw new ArgumentException("Option 'rank-pattern' has rank '" + v + "' for '" + k + "', expected an int");
      }
    });
    s.rankPattern = rp;
    Map<String, Double> ap = new LinkedHashMap<>();
    InitPipeline.parsePatterns("alpha-pattern", o.getStringList("alpha-pattern")).forEach((k, v) -> {
      try {
        ap.put(k, Double.parseDouble(v));
      } catch (NumberFormatException e) {
        throw new ArgumentException("Option 'alpha-pattern' has alpha '" + v + "' for '" + k + "', expected a number");
      }
    });
    s.alphaPattern = ap;
    List<Method> methods = new ArrayList<>();
    for (String m : o.getStringList("methods")) {
      Method parsed = Method.parse(m);
      if (!methods.contains(parsed)) {
        methods.add(parsed);
      }
    }
    if (methods.isEmpty()) {
      throw new ArgumentException("Option 'methods' is empty");
    }
    s.methods = methods;
    s.betas = o.getDoubleList("betas");
    for (double b : s.betas) {
      if (!(b >= 0 && b <= 1)) {
        throw new ArgumentException("Option 'betas' has β = " + b + ", outside [0, 1]");
      }
    }
    s.plusDataset = o.getString("dataset-plus");
    s.minusDataset = o.getString("dataset-minus");
    s.solver = EigenSolver.parse(o.getString("eigensolver"));
    s.evaRedistribute = o.getBoolean("eva-redistribute");
    s.evaRho = o.getDouble("eva-rho");
    s.evaAdjustScaling = o.getBoolean("eva-adjust-scaling");
    s.adapterDtype = Dtype.parse(o.getString("adapter-dtype"), "option 'adapter-dtype'");
    String rd = o.getString("residual-dtype");
    s.residualDtype = rd.equals("base") ? null : Dtype.parse(rd, "option 'residual-dtype'");
    s.taskType = o.getString("task-type");
    s.loraDa.n = o.getLong("lora-da-n");
    s.loraDa.zDamping = o.getDouble("lora-da-z-damping");
    s.loraDa.yDamping = o.getDouble("lora-da-y-damping");
    s.loraDa.varianceWeight = o.getDouble("lora-da-variance-weight");
    s.loraDa.biasWeight = o.getDouble("lora-da-bias-weight");
    s.loraDa.displacement = LoraDa.Displacement.parse(o.getString("lora-da-displacement"));
    s.loraDa.gamma = o.getDouble("lora-da-gamma");
    s.loraOneGamma = o.getDouble("lora-one-gamma");
    return s;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    InitPipeline.run(ctx, settings(ctx.options()), ctx.staging());
  }
}
