package io.loraspace.jobs.init;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.init.Corda;
import io.loraspace.common.init.Eva;
import io.loraspace.common.init.InitFactors;
import io.loraspace.common.init.LoraDa;
import io.loraspace.common.init.LoraOne;
import io.loraspace.common.init.OutputCovariance;
import io.loraspace.common.init.Pissa;
import io.loraspace.common.init.ScLora;
import io.loraspace.common.init.TripletInit;
import io.loraspace.common.io.ActivationBlockEncoder;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.safetensors.TensorInfo;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.Qr;
import io.loraspace.jobs.inputs.LocalFiles;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one {@link InitTask} on an executor: reads the module's tensors, solves, writes its parts. */
final class TaskRunner {
  private static final Logger LOG = LoggerFactory.getLogger(TaskRunner.class);

  private TaskRunner() {}

  /** Directory name of a (method, parameters) variant. */
  static String tag(Method m, Double beta) {
    if (m != Method.SC_LORA) {
      return m.id;
    }
    return m.id + "-beta-" + new BigDecimal(Double.toString(beta)).stripTrailingZeros().toPlainString();
  }

  /** Statistics of one dataset's site, read from the store. */
  private static final class SiteStats {
    DenseMatrix tokenGram;
    double[] tokenSum;
    DenseMatrix sampleGram;
    double[] tokenWeightedSum;
  }

  static TaskResult run(HadoopConf conf, InitTask t) throws IOException {
    long t0 = System.nanoTime();
    long read0 = TaskInput.threadBytesRead();
    java.nio.file.Path tmp = Files.createTempDirectory("loraspace-init-");
    try {
      DenseMatrix w;
      double[] bias = null;
      Dtype baseDtype;
      try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(java.nio.file.Path.of(t.base))) {
        TensorInfo info = ckpt.info(t.weightTensor);
        baseDtype = info.dtype();
        w = ckpt.readMatrix(t.weightTensor);
        long baseBytes = info.byteLength();
        if (t.biasTensor != null) {
          bias = ckpt.readDoubles(t.biasTensor);
          baseBytes += ckpt.info(t.biasTensor).byteLength();
        }
        // The base checkpoint is read through java.nio, outside Hadoop's counters (the store's files are not).
        TaskInput.report(baseBytes);
      }
      SiteStats plus = t.plusFile == null ? null : readSite(conf, t.store, t.plusFile, tmp, w.cols());
      SiteStats minus = t.minusFile == null ? null : readSite(conf, t.store, t.minusFile, tmp, w.cols());
      OutputEnergy covPlus = plus == null ? null
          : new OutputEnergy(w, bias, plus, t.plusSumTokensSquared, t.plusSamples);
      OutputEnergy covMinus = minus == null ? null
          : new OutputEnergy(w, bias, minus, t.minusSumTokensSquared, t.minusSamples);
      TaskResult result = new TaskResult();
      result.module = t.module;
      result.method = t.method;
      switch (t.method) {
        case SC_LORA: {
          java.util.Set<String> solvers = new java.util.TreeSet<>();
          for (double beta : t.betas) {
            ScLora.Subspace sub = named(t, () -> ScLora.solve(covPlus.cov(), covMinus == null ? null
                : covMinus.cov(), t.minusSamples, beta, t.r, t.solver));
            solvers.add(sub.solver());
            result.solver = String.join(",", solvers);
            InitFactors f = ScLora.factors(w, sub, t.scaling);
            ObjectNode rep = baseReport(t, sub.solver());
            rep.put("beta", beta);
            putArray(rep, "eigenvalues", sub.eigenvalues());
            rep.put("reward", sub.reward());
            result.variants.add(write(conf, t, tag(t.method, beta), f, w, baseDtype, covPlus, covMinus, rep, null));
          }
          break;
        }
        case CORDA_IPA:
        case CORDA_KPA: {
          SiteStats s = t.method == Method.CORDA_IPA ? plus : minus;
          long samples = t.method == Method.CORDA_IPA ? t.plusSamples : t.minusSamples;
          DenseMatrix c = s.tokenGram.copy();
          Matrices.scale(1.0 / samples, c);
          Corda.Result cr = named(t, () -> Corda.init(w, c, t.r, t.scaling,
              t.method == Method.CORDA_IPA ? Corda.Mode.IPA : Corda.Mode.KPA, t.solver));
          ObjectNode rep = baseReport(t, cr.solver);
          result.solver = cr.solver;
          noteFallback(t, rep, cr.fallbackReason);
          rep.put("damping", cr.damping).put("inverseCheck", cr.inverseCheck);
          putArray(rep, "singularValues", cr.factors.spectrum());
          result.variants.add(write(conf, t, tag(t.method, null), cr.factors, w, baseDtype, covPlus, covMinus, rep,
              null));
          break;
        }
        case EVA: {
          Eva.Components comp = named(t, () -> Eva.components(plus.tokenGram, plus.tokenSum, t.plusTokens,
              t.evaComponents, t.solver));
          result.solver = comp.solver;
          InitFactors f = Eva.init(comp, t.evaComponents, w.rows(), t.scaling);
          ObjectNode rep = baseReport(t, comp.solver);
          putArray(rep, "explainedVarianceRatio", comp.ratios);
          putArray(rep, "variances", comp.variances);
          result.variants.add(write(conf, t, tag(t.method, null), f, w, baseDtype, covPlus, covMinus, rep,
              comp.ratios));
          break;
        }
        case PISSA: {
          TripletInit pr = named(t, () -> Pissa.init(w, t.r, t.scaling, t.solver));
          InitFactors f = pr.factors;
          ObjectNode rep = baseReport(t, pr.solver);
          result.solver = pr.solver;
          noteFallback(t, rep, pr.fallbackReason);
          putArray(rep, "singularValues", f.spectrum());
          result.variants.add(write(conf, t, tag(t.method, null), f, w, baseDtype, covPlus, covMinus, rep, null));
          break;
        }
        case LORA_DA: {
          LoraDa.Statistics st = readGradients(conf, t, tmp, w.rows(), w.cols(), plus.tokenGram);
          LoraDa.Result lr = named(t, () -> LoraDa.init(t.module, st, t.loraDa, t.r, t.scaling, t.solver));
          result.solver = lr.solver;
          ObjectNode rep = baseReport(t, lr.solver);
          rep.put("variant", t.loraDa.describe());
          rep.put("dampingZ", lr.quantities.deltaZ).put("dampingY", lr.quantities.deltaY);
          rep.put("deltaNorm", lr.quantities.delta.frobeniusNorm());
          putArray(rep, "omegaBottomEigenvalues", lr.eigenvalues);
          rep.put("updateNorm", lr.factors.delta().frobeniusNorm());
          result.variants.add(write(conf, t, tag(t.method, null), lr.factors, w, baseDtype, covPlus, covMinus, rep,
              null));
          break;
        }
        case LORA_ONE: {
          LoraDa.Statistics st = readGradients(conf, t, tmp, w.rows(), w.cols(), null);
          TripletInit lr = named(t, () -> LoraOne.init(t.module, st.meanGradient(), t.r, t.scaling,
              t.loraOneGamma, t.solver));
          InitFactors f = lr.factors;
          result.solver = lr.solver;
          ObjectNode rep = baseReport(t, lr.solver);
          noteFallback(t, rep, lr.fallbackReason);
          rep.put("gamma", t.loraOneGamma);
          putArray(rep, "singularValues", f.spectrum());
          rep.put("updateNorm", f.delta().frobeniusNorm());
          result.variants.add(write(conf, t, tag(t.method, null), f, w, baseDtype, covPlus, covMinus, rep, null));
          break;
        }
        default:
          throw new IllegalStateException(t.method.toString());
      }
      result.seconds = (System.nanoTime() - t0) / 1e9;
      LOG.info("init: {} {} (out {}, in {}, r {}, solver {}) in {} s", t.method.id, t.module, w.rows(), w.cols(), t.r,
          result.solver, String.format("%.3f", result.seconds));
      return result;
    } finally {
      TaskInput.reportSince(read0);
      LocalFiles.deleteRecursively(tmp);
    }
  }

  /**
   * Runs an eigensolve of task {@code t}; a solver failure ({@link StateException}: eigensolver=partial not
   * converging, LAPACK errors) is rethrown naming the method and module.
   */
  static <T> T named(InitTask t, java.util.function.Supplier<T> solve) {
    try {
      return solve.get();
    } catch (StateException e) {
      throw new StateException("init: " + t.method.id + " for module '" + t.module + "' (r = " + t.r + ", "
          + "eigensolver=" + t.solver.name().toLowerCase(java.util.Locale.ROOT) + "): " + e.getMessage()
          + (t.solver == io.loraspace.common.init.EigenSolver.PARTIAL ? "; eigensolver=auto falls back to the"
          + " dense solver" : ""), e);
    }
  }

  /** Records in the module's report, and logs, why eigensolver=auto answered with the full SVD. */
  private static void noteFallback(InitTask t, ObjectNode rep, String reason) {
    if (reason != null) {
      rep.put("solverFallback", reason);
      LOG.warn("init: {} for module '{}' (r = {}): partial singular triplets not verified, used the full SVD: {}",
          t.method.id, t.module, t.r, reason);
    }
  }

  private static ObjectNode baseReport(InitTask t, String solver) {
    ObjectNode rep = Manifest.json().createObjectNode();
    rep.put("module", t.module).put("method", t.method.id).put("r", t.r).put("scaling", t.scaling)
        .put("solver", solver);
    return rep;
  }

  private static void putArray(ObjectNode n, String key, double[] values) {
    ArrayNode a = n.putArray(key);
    for (double v : values) {
      a.add(v);
    }
  }

  private static SiteStats readSite(HadoopConf conf, String store, String file, java.nio.file.Path tmp, int in)
      throws IOException {
    Path remote = new Path(new Path(store), file);
    java.nio.file.Path local = LocalFiles.materialize(conf.get(), remote, tmp);
    try (SafetensorsFile f = SafetensorsFile.open(local)) {
      SiteStats s = new SiteStats();
      // The Grams are symmetric (docs/stats-store.md): the file's row-major bytes are already the column-major
      // matrix, so they are read without a transposing copy (at width 2048-3072 that copy cost more than the solve).
      s.tokenGram = f.readMatrixTransposed(StatsStore.TOKEN_GRAM);
      s.tokenSum = f.readDoubles(StatsStore.TOKEN_SUM);
      s.sampleGram = f.readMatrixTransposed(StatsStore.SAMPLE_GRAM);
      s.tokenWeightedSum = f.readDoubles(StatsStore.SAMPLE_TOKEN_WEIGHTED_SUM);
      if (s.tokenGram.rows() != in) {
        throw new FormatException(remote + ": statistics have dim " + s.tokenGram.rows() + " but the module's weight "
            + "has " + in + " inputs");
      }
      return s;
    }
  }

  /**
   * The module's gradient statistics of D+; the file's own metadata must name the dataset, module and site the store
   * index promised (a file copied in from another dataset or run fails here, naming it).
   */
  private static LoraDa.Statistics readGradients(HadoopConf conf, InitTask t, java.nio.file.Path tmp, int out,
      int in, DenseMatrix tokenGram) throws IOException {
    Path remote = new Path(new Path(t.store), t.gradFile);
    java.nio.file.Path local = LocalFiles.materialize(conf.get(), remote, tmp);
    try (SafetensorsFile f = SafetensorsFile.open(local)) {
      java.util.Map<String, String> meta = f.metadata();
      String[][] expect = {{"dataset", t.gradDataset}, {"module", t.module}, {"site", t.gradSite},
          {"token_count", Long.toString(t.gradTokens)}, {"sample_count", Long.toString(t.gradSamples)}};
      for (String[] e : expect) {
        String have = meta.get(e[0]);
        if (!e[1].equals(have)) {
          throw new FormatException(remote + ": gradient statistics with " + e[0] + " '" + have + "', but the store"
              + " index lists this file as " + e[0] + " '" + e[1] + "' (statistics of different datasets or runs "
              + "mixed?)");
        }
      }
      DenseMatrix cross = f.readMatrix(StatsStore.GRAD_INPUT_CROSS);
      double[] sq = f.readDoubles(StatsStore.GRAD_SQ_SUM);
      if (cross.rows() != out || cross.cols() != in || sq.length != out) {
        throw new FormatException(remote + ": " + StatsStore.GRAD_INPUT_CROSS + " is " + cross.shapeString() + " and "
            + StatsStore.GRAD_SQ_SUM + " has " + sq.length + " entries, but the weight of '" + t.module + "' is "
            + out + "×" + in);
      }
      return new LoraDa.Statistics(tokenGram == null ? DenseMatrix.zeros(in, in) : tokenGram, t.plusTokens, cross,
          sq, t.gradTokens, t.gradSamples);
    }
  }

  /**
   * A dataset's per-sample output covariance of the module ({@link OutputCovariance}): formed only for the method
   * that needs the matrix (SC-LoRA); for the report's captured energy of the others, computed without it (forming it
   * took two out×in×in-sized products per module, more than a partial CorDA or PiSSA solve at width 2048).
   */
  private static final class OutputEnergy {
    private final DenseMatrix w;
    private final double[] bias;
    private final SiteStats site;
    private final double sumTokensSquared;
    private final long samples;
    private DenseMatrix cov;

    OutputEnergy(DenseMatrix w, double[] bias, SiteStats site, double sumTokensSquared, long samples) {
      this.w = w;
      this.bias = bias;
      this.site = site;
      this.sumTokensSquared = sumTokensSquared;
      this.samples = samples;
    }

    DenseMatrix cov() {
      if (cov == null) {
        cov = OutputCovariance.perSample(w, bias, site.sampleGram, site.tokenWeightedSum, sumTokensSquared, samples);
      }
      return cov;
    }

    /** Fraction of the output energy inside span(B). */
    double capturedFraction(DenseMatrix b) {
      DenseMatrix q = Qr.of(b).q();
      if (cov != null) {
        return ScLora.captured(q, cov) / Matrices.trace(cov);
      }
      return OutputCovariance.capturedFraction(q, w, bias, site.sampleGram, site.tokenWeightedSum, sumTokensSquared);
    }
  }

  private static TaskResult.Variant write(HadoopConf conf, InitTask t, String tag, InitFactors f, DenseMatrix w,
      Dtype baseDtype, OutputEnergy covPlus, OutputEnergy covMinus, ObjectNode report, double[] ratios)
      throws IOException {
    TaskResult.Variant v = new TaskResult.Variant();
    v.tag = tag;
    v.r = f.rank();
    v.in = w.cols();
    v.out = w.rows();
    v.scaling = t.scaling;
    v.adapterDtype = t.adapterDtype;
    v.ratios = ratios;
    FileSystem fs = new Path(t.staging).getFileSystem(conf.get());
    byte[] a = ActivationBlockEncoder.encode(f.a().toRowMajor(), 0, f.a().rows(), f.a().cols(), t.adapterDtype);
    byte[] b = ActivationBlockEncoder.encode(f.b().toRowMajor(), 0, f.b().rows(), f.b().cols(), t.adapterDtype);
    v.partFile = new Path(new Path(t.staging), "_parts/" + tag + "/" + StatsStore.fileSafe(t.module) + ".bin")
        .toString();
    try (OutputStream os = fs.create(new Path(v.partFile), true)) {
      os.write(a);
      os.write(b);
    }
    v.aBytes = a.length;
    v.bBytes = b.length;
    if (f.needsResidual()) {
      DenseMatrix res = f.residualOf(w);
      Dtype dt = t.residualDtype == null ? baseDtype : t.residualDtype;
      v.residualDtype = dt;
      v.residualTensor = t.weightTensor;
      String name = StatsStore.fileSafe(t.module) + ".safetensors";
      v.residualFile = name;
      SafetensorsWriter sw = new SafetensorsWriter().metadata("format", "pt").addMatrix(t.weightTensor, dt, res);
      Path p = new Path(new Path(t.staging), tag + "/residual/" + name);
      try (OutputStream os = fs.create(p, true)) {
        sw.writeTo(os);
      }
      v.residualBytes = sw.dataBytes();
      report.put("residualDtype", dt.name());
    }
    if (covPlus != null && f.b().frobeniusNorm() > 0) {
      report.put("capturedPlus", covPlus.capturedFraction(f.b()));
    }
    if (covMinus != null && f.b().frobeniusNorm() > 0) {
      report.put("capturedMinus", covMinus.capturedFraction(f.b()));
    }
    v.reportJson = Manifest.json().writeValueAsString(report);
    return v;
  }
}
