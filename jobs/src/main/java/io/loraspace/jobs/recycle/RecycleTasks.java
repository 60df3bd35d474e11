package io.loraspace.jobs.recycle;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.LoraspaceException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.recycle.AdapterPca;
import io.loraspace.common.recycle.LeaveOneOutPca;
import io.loraspace.jobs.inputs.LocalFiles;
import io.loraspace.jobs.inputs.RemoteSafetensors;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Spark tasks of the recycle job: one per module (PCA, loadings), one per (module, factor, fold group) (LOO). */
final class RecycleTasks {
  private static final Logger LOG = LoggerFactory.getLogger(RecycleTasks.class);
  static final char[] FACTORS = {'A', 'B'};

  private RecycleTasks() {}

  /** Stage 1 input: one module and the adapters that have it (in collection order). */
  static final class ModuleTask implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    int in;
    int out;
    List<Integer> adapterIndex = new ArrayList<>();
    List<String> adapterDir = new ArrayList<>();
    List<Integer> ranks = new ArrayList<>();
    List<Double> scalings = new ArrayList<>();
    AdapterPca.Options pca;
    String staging;
    boolean writeWork;
  }

  /** Stage 1 output for one factor. */
  static final class FactorResult implements Serializable {
    private static final long serialVersionUID = 1L;
    char factor;
    int dim;
    long vectors;
    int principal;
    int size;
    double[] eigenvalues;
    double[] ratios;
    double[] spectrum;
    double total;
    /** Relative gap at K of the full-data scatter ({@link AdapterPca.Basis#gap}). */
    double gap;
    /** Per adapter of the task: in-sample relative reconstruction error. */
    double[] inSample;
    /** Per adapter: loadings (size × r_i), row-major. */
    List<double[]> loadings = new ArrayList<>();
  }

  static final class ModuleResult implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    List<Integer> adapterIndex;
    List<Integer> ranks;
    FactorResult[] factors = new FactorResult[2];
    double seconds;
    String workFile;
  }

  /** Reads one factor's vectors of every adapter of the task: A rows or s·B columns, as d × r_i blocks. */
  static List<DenseMatrix> vectors(HadoopConf conf, ModuleTask t, char factor) throws IOException {
    List<DenseMatrix> out = new ArrayList<>();
    long read0 = TaskInput.threadBytesRead();
    try {
      readVectors(conf, t, factor, out);
    } finally {
      TaskInput.reportSince(read0);
    }
    return out;
  }

  private static void readVectors(HadoopConf conf, ModuleTask t, char factor, List<DenseMatrix> out)
      throws IOException {
    for (int i = 0; i < t.adapterDir.size(); i++) {
      Path weights = new Path(t.adapterDir.get(i), AdapterDirectory.WEIGHTS);
      FileSystem fs = weights.getFileSystem(conf.get());
      try (RemoteSafetensors f = RemoteSafetensors.open(fs, weights)) {
        DenseMatrix m = f.readMatrix(AdapterDirectory.key(t.module, factor));
        if (factor == 'A') {
          out.add(m.transpose());
        } else {
          Matrices.scale(t.scalings.get(i), m);
          out.add(m);
        }
      }
    }
  }

  static ModuleResult runModule(HadoopConf conf, ModuleTask t) throws IOException {
    long t0 = System.nanoTime();
    ModuleResult res = new ModuleResult();
    res.module = t.module;
    res.adapterIndex = t.adapterIndex;
    res.ranks = t.ranks;
    SafetensorsWriter basis = new SafetensorsWriter().metadata("format", "pt").metadata("module", t.module)
        .metadata("adapters", Integer.toString(t.adapterDir.size()))
        .metadata("center", Boolean.toString(t.pca.center));
    SafetensorsWriter work = new SafetensorsWriter();
    for (int fi = 0; fi < 2; fi++) {
      char factor = FACTORS[fi];
      List<DenseMatrix> vs = vectors(conf, t, factor);
      int d = factor == 'A' ? t.in : t.out;
      int total = 0;
      for (DenseMatrix v : vs) {
        total += v.cols();
      }
      DenseMatrix stacked = DenseMatrix.zeros(d, total);
      int col = 0;
      for (DenseMatrix v : vs) {
        System.arraycopy(v.data(), 0, stacked.data(), col * d, v.data().length);
        col += v.cols();
      }
      AdapterPca.Totals tot = new AdapterPca.Totals(d);
      tot.add(stacked); // one d × n product instead of n rank-r updates of the d×d Gram
      AdapterPca.Eigenbasis e;
      AdapterPca.Basis b;
      try {
        e = t.writeWork && tot.count >= 2 ? AdapterPca.eigenbasis(tot, t.pca.center) : null;
        b = AdapterPca.fit(tot, t.pca, "module '" + t.module + "' lora_" + factor, e);
      } catch (RuntimeException ex) {
        throw named("recycle: PCA of module '" + t.module + "' lora_" + factor + " (" + tot.count + " vectors of dim "
            + d + ")", ex);
      }
      FactorResult fr = new FactorResult();
      fr.factor = factor;
      fr.dim = d;
      fr.vectors = tot.count;
      fr.principal = b.principal;
      fr.size = b.size();
      fr.eigenvalues = b.eigenvalues;
      fr.ratios = b.ratios();
      fr.spectrum = b.spectrum;
      fr.total = b.total;
      fr.gap = b.gap;
      fr.inSample = new double[vs.size()];
      for (int i = 0; i < vs.size(); i++) {
        fr.inSample[i] = b.relativeError(vs.get(i));
        fr.loadings.add(b.loadings(vs.get(i)).toRowMajor());
      }
      res.factors[fi] = fr;
      String p = factor + ".";
      basis.addMatrix(p + "components", Dtype.F64, b.components.transpose());
      basis.add(p + "mean", Dtype.F64, new long[] {d}, b.mean);
      double[] ev = new double[b.eigenvalues.length];
      for (int k = 0; k < ev.length; k++) {
        ev[k] = b.eigenvalues[k] / Math.max(1, tot.count - (t.pca.center ? 1 : 0));
      }
      basis.add(p + "explained_variance", Dtype.F64, new long[] {ev.length}, ev);
      basis.add(p + "explained_variance_ratio", Dtype.F64, new long[] {ev.length}, fr.ratios);
      basis.metadata(p + "principal_components", Integer.toString(b.principal));
      basis.metadata(p + "pseudo_components", Integer.toString(b.size() - b.principal));
      basis.metadata(p + "vectors", Long.toString(tot.count));
      if (e != null) {
        work.addMatrix(p + "q", Dtype.F64, e.q);
        work.add(p + "values", Dtype.F64, new long[] {d}, e.values);
        work.add(p + "sum", Dtype.F64, new long[] {d}, tot.sum);
        work.metadata(p + "count", Long.toString(tot.count));
        work.addMatrix(p + "vectors_t", Dtype.F64, stacked.transpose());
      }
    }
    FileSystem fs = new Path(t.staging).getFileSystem(conf.get());
    try (OutputStream os = fs.create(new Path(t.staging, "basis/" + StatsStore.fileSafe(t.module)
        + ".safetensors"), true)) {
      basis.writeTo(os);
    }
    if (t.writeWork) {
      Path wp = new Path(t.staging, "_work/" + StatsStore.fileSafe(t.module) + ".safetensors");
      try (OutputStream os = fs.create(wp, true)) {
        work.writeTo(os);
      }
      res.workFile = wp.toString();
    }
    res.seconds = (System.nanoTime() - t0) / 1e9;
    LOG.info("recycle: PCA of {} over {} adapters in {} s", t.module, t.adapterDir.size(),
        String.format("%.2f", res.seconds));
    return res;
  }

  /** Stage 2 input: leave-one-out folds [from, to) of one (module, factor). */
  static final class FoldTask implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    char factor;
    String workFile;
    int principal;
    boolean center;
    List<Integer> adapterIndex;
    /** Adapter directories, parallel to adapterIndex (for messages). */
    List<String> adapterDir;
    List<Integer> ranks;
    int from;
    int to;
    LeaveOneOutPca.Options solver = LeaveOneOutPca.Options.defaults();
    /** Folds (positions in adapterIndex) also recomputed exactly, for verification and the naive timing. */
    List<Integer> verify = new ArrayList<>();
  }

  /** One fold's outcome. */
  static final class FoldResult implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    char factor;
    int adapter;
    double heldOut;
    double seconds;
    /** {@link LeaveOneOutPca.Solver#id()} of the solver that answered. */
    String solver;
    /** The fold's relative gap at K ({@link LeaveOneOutPca.Fold#gap}). */
    double gap;
    /** K used in this fold (less than asked when the fold has fewer components). */
    int components;
    /**
     * Seconds per {@link LeaveOneOutPca.Phase} of the downdate. {@link #seconds} excludes the
     * {@link LeaveOneOutPca.Phase#BASIS} product, which only a verified fold computes (for the angle check).
     */
    double[] phaseSeconds;
    /** When verified: exact recomputation's held-out error, max principal-angle sine, seconds; else NaN. */
    double exactHeldOut = Double.NaN;
    double sinAngle = Double.NaN;
    double exactSeconds = Double.NaN;
  }

  static List<FoldResult> runFolds(HadoopConf conf, FoldTask t) throws IOException {
    long s0 = System.nanoTime();
    java.nio.file.Path tmp = Files.createTempDirectory("loraspace-loo-");
    try {
      long read0 = TaskInput.threadBytesRead();
      java.nio.file.Path local = LocalFiles.materialize(conf.get(), new Path(t.workFile), tmp);
      TaskInput.reportSince(read0);
      // A local work file is read in place (mapped): its bytes reach no Hadoop counter, so count what was mapped.
      boolean inPlace = LocalFiles.isLocal(new Path(t.workFile));
      List<FoldResult> out = new ArrayList<>();
      try (SafetensorsFile f = SafetensorsFile.open(local)) {
        String p = t.factor + ".";
        AdapterPca.Eigenbasis e = new AdapterPca.Eigenbasis(f.readMatrix(p + "q"), f.readDoubles(p + "values"),
            f.readDoubles(p + "sum"), Long.parseLong(f.metadata().get(p + "count")), t.center);
        DenseMatrix stacked = f.readMatrixTransposed(p + "vectors_t");
        if (inPlace) {
          TaskInput.report(f.bytesMapped());
        }
        int d = e.q.rows();
        int[] offset = new int[t.ranks.size() + 1];
        for (int i = 0; i < t.ranks.size(); i++) {
          offset[i + 1] = offset[i] + t.ranks.get(i);
        }
        long t0 = System.nanoTime();
        double setup = (t0 - s0) / 1e9;
        for (int i = t.from; i < t.to; i++) {
          DenseMatrix mine = stacked.columns(offset[i], offset[i + 1]);
          long f0 = System.nanoTime();
          boolean verify = t.verify.contains(i);
          String where = "recycle: leave-one-out fold without adapter " + t.adapterDir.get(i) + ", module '"
              + t.module + "' lora_" + t.factor + " (K = " + t.principal + ", d = " + d + ")";
          LeaveOneOutPca.Fold b;
          try {
            b = LeaveOneOutPca.fold(e, mine, t.principal, t.solver, verify);
          } catch (RuntimeException ex) {
            throw named(where, ex);
          }
          FoldResult r = new FoldResult();
          r.module = t.module;
          r.factor = t.factor;
          r.adapter = t.adapterIndex.get(i);
          r.heldOut = b.heldOutError;
          r.solver = b.solver.id();
          r.gap = b.gap;
          r.components = b.components;
          r.phaseSeconds = new double[b.phaseNanos.length];
          for (LeaveOneOutPca.Phase ph : LeaveOneOutPca.Phase.values()) {
            r.phaseSeconds[ph.ordinal()] = b.seconds(ph);
          }
          r.seconds = (System.nanoTime() - f0) / 1e9 - b.seconds(LeaveOneOutPca.Phase.BASIS);
          if (b.solver != LeaveOneOutPca.Solver.LANCZOS) {
            LOG.info("{}: solved densely ({}), relative gap at K {}", where, b.solver.id(), b.gap);
          }
          if (verify) {
            long e0 = System.nanoTime();
            AdapterPca.Totals rest = new AdapterPca.Totals(d);
            if (offset[i] > 0) {
              rest.add(stacked.columns(0, offset[i]));
            }
            if (offset[i + 1] < stacked.cols()) {
              rest.add(stacked.columns(offset[i + 1], stacked.cols()));
            }
            AdapterPca.Options o = new AdapterPca.Options();
            o.components = b.components;
            o.center = t.center;
            AdapterPca.Basis exact = AdapterPca.fit(rest, o, where);
            r.exactSeconds = (System.nanoTime() - e0) / 1e9;
            r.exactHeldOut = exact.relativeError(mine);
            r.sinAngle = io.loraspace.common.linalg.Subspaces.maxSinPrincipalAngle(exact.components, b.basis);
          }
          out.add(r);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        LOG.info("recycle: leave-one-out {} lora_{} folds {}..{} (d = {}) in {} s ({} folds/s) after {} s reading the"
            + " work file", t.module, t.factor, t.from, t.to - 1, d, String.format("%.1f", secs),
            String.format("%.2f", (t.to - t.from) / secs), String.format("%.1f", setup));
      }
      return out;
    } finally {
      LocalFiles.deleteRecursively(tmp);
    }
  }

  /** {@code e} with {@code where} (job, module, factor, fold) in front, of the same kind (argument, format, state). */
  static LoraspaceException named(String where, RuntimeException e) {
    String msg = where + ": " + e.getMessage();
    if (e instanceof FormatException) {
      return new FormatException(msg, e);
    }
    if (e instanceof ArgumentException) {
      return new ArgumentException(msg, e);
    }
    return new StateException(msg, e);
  }
}
