package io.loraspace.jobs.correct;

import io.loraspace.common.correct.CorrectionMethod;
import io.loraspace.common.correct.Displacement;
import io.loraspace.common.correct.LoraUpdate;
import io.loraspace.common.correct.ModuleCorrection;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.jobs.inputs.RemoteSafetensors;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The correct job's Spark tasks. Stage 1, one per module: forms D = W_aligned − W_base once, corrects that module of
 * every adapter having it with every method (the methods share D and its subspaces), writes the corrected factors to
 * one work file per (module, method) and returns only figures. Stage 2, one per (adapter, method): assembles the
 * PEFT adapter directory from the work files (selected modules) and the input adapter (everything else).
 */
final class CorrectTasks {
  private static final Logger LOG = LoggerFactory.getLogger(CorrectTasks.class);

  private CorrectTasks() {}

  /** Stage 1 input. Checkpoint paths are local (every executor mounts them). */
  static final class ModuleTask implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    String weight;
    int out;
    int in;
    String base;
    String aligned;
    List<Integer> adapterIndex = new ArrayList<>();
    List<String> adapterDir = new ArrayList<>();
    List<Double> scalings = new ArrayList<>();
    List<CorrectionMethod> methods;
    String staging;
    Dtype dtype;
  }

  /** Stage 1 output: figures only. */
  static final class ModuleResult implements Serializable {
    private static final long serialVersionUID = 1L;
    String module;
    int out;
    int in;
    List<Integer> adapterIndex;
    /** method → figures of the shared subspace (empty for methods without one). */
    Map<String, Map<String, Double>> subspace = new LinkedHashMap<>();
    /** method → per adapter (in adapterIndex order) figures. */
    Map<String, List<Map<String, Double>>> figures = new LinkedHashMap<>();
    /** method → work file holding keys {@code <adapter index>.A|B}. */
    Map<String, String> workFiles = new LinkedHashMap<>();
    int subspacesComputed;
    double seconds;
  }

  static String workFile(String staging, String method, String module) {
    return new Path(staging, "_work/" + method + "/" + StatsStore.fileSafe(module) + ".safetensors").toString();
  }

  static ModuleResult runModule(HadoopConf conf, ModuleTask t) throws IOException {
    long t0 = System.nanoTime();
    Displacement d;
    try (ShardedCheckpoint base = ShardedCheckpoint.open(java.nio.file.Path.of(t.base));
        ShardedCheckpoint aligned = ShardedCheckpoint.open(java.nio.file.Path.of(t.aligned))) {
      DenseMatrix wb = base.readMatrix(t.weight);
      DenseMatrix wa = aligned.readMatrix(t.weight);
      // Read through java.nio, outside Hadoop's counters: reported to the task's input metrics by tensor bytes.
      TaskInput.report(base.info(t.weight).byteLength()
          + aligned.info(t.weight).byteLength());
      if (wb.rows() != t.out || wb.cols() != t.in || wa.rows() != t.out || wa.cols() != t.in) {
        throw new FormatException("Tensor '" + t.weight + "' is " + wb.shapeString() + " in " + t.base + " and "
            + wa.shapeString() + " in " + t.aligned + ", expected [" + t.out + ", " + t.in + "] as planned");
      }
      d = Displacement.between(t.module, wb, wa);
    }
    ModuleResult res = new ModuleResult();
    res.module = t.module;
    res.out = t.out;
    res.in = t.in;
    res.adapterIndex = t.adapterIndex;
    Map<String, SafetensorsWriter> work = new LinkedHashMap<>();
    for (CorrectionMethod m : t.methods) {
      work.put(m.name(), new SafetensorsWriter().metadata("format", "pt").metadata("module", t.module)
          .metadata("method", m.name()));
      res.figures.put(m.name(), new ArrayList<>());
    }
    for (int i = 0; i < t.adapterDir.size(); i++) {
      Path weights = new Path(t.adapterDir.get(i), AdapterDirectory.WEIGHTS);
      LoraUpdate update;
      long read0 = TaskInput.threadBytesRead();
      try (RemoteSafetensors f = RemoteSafetensors.open(weights.getFileSystem(conf.get()), weights)) {
        update = new LoraUpdate(f.readMatrix(AdapterDirectory.key(t.module, 'A')),
            f.readMatrix(AdapterDirectory.key(t.module, 'B')), t.scalings.get(i));
      } finally {
        TaskInput.reportSince(read0);
      }
      int index = t.adapterIndex.get(i);
      for (CorrectionMethod m : t.methods) {
        ModuleCorrection c = m.correct(d, update);
        if (c.a() != null) {
          work.get(m.name()).addMatrix(index + ".A", t.dtype, c.a());
        }
        if (c.b() != null) {
          work.get(m.name()).addMatrix(index + ".B", t.dtype, c.b());
        }
        res.figures.get(m.name()).add(new LinkedHashMap<>(c.figures()));
      }
    }
    for (CorrectionMethod m : t.methods) {
      res.subspace.put(m.name(), new LinkedHashMap<>(m.subspaceFigures(d)));
      String file = workFile(t.staging, m.name(), t.module);
      Path p = new Path(file);
      try (OutputStream os = p.getFileSystem(conf.get()).create(p, true)) {
        work.get(m.name()).writeTo(os);
      }
      res.workFiles.put(m.name(), file);
    }
    res.subspacesComputed = d.subspacesComputed();
    res.seconds = (System.nanoTime() - t0) / 1e9;
    LOG.info("correct: module {} ({}×{}) for {} adapters in {} s", t.module, t.out, t.in, t.adapterDir.size(),
        String.format("%.2f", res.seconds));
    return res;
  }

  /** Stage 2 input: one adapter's output directory for one method. */
  static final class AdapterTask implements Serializable {
    private static final long serialVersionUID = 1L;
    int index;
    String name;
    String dir;
    String method;
    /** module → work file, for the modules the method corrected and selected. */
    Map<String, String> selected = new TreeMap<>();
    String staging;
    Dtype dtype;
  }

  /** Writes {@code <staging>/<method>/<name>/}: the input's config as it was and the factors; returns the count. */
  static int runAdapter(HadoopConf conf, AdapterTask t) throws IOException {
    Path in = new Path(t.dir);
    FileSystem ifs = in.getFileSystem(conf.get());
    byte[] config;
    try (InputStream s = ifs.open(new Path(in, AdapterDirectory.CONFIG))) {
      config = s.readAllBytes();
    }
    SafetensorsWriter out = new SafetensorsWriter().metadata("format", "pt").metadata("loraspace.method", t.method);
    Map<String, RemoteSafetensors> open = new TreeMap<>();
    int replaced = 0;
    try (RemoteSafetensors f = RemoteSafetensors.open(ifs, new Path(in, AdapterDirectory.WEIGHTS))) {
      for (String key : new java.util.TreeSet<>(f.tensors().keySet())) {
        String module = key.substring(AdapterDirectory.KEY_PREFIX.length(), key.length() - ".lora_A.weight".length());
        char factor = key.charAt(key.length() - ".weight".length() - 1);
        String work = t.selected.get(module);
        RemoteSafetensors w = null;
        if (work != null) {
          w = open.get(work);
          if (w == null) {
            Path wp = new Path(work);
            w = RemoteSafetensors.open(wp.getFileSystem(conf.get()), wp);
            open.put(work, w);
          }
        }
        String workKey = t.index + "." + factor;
        if (w != null && w.tensors().containsKey(workKey)) {
          out.addMatrix(key, t.dtype, w.readMatrix(workKey));
          replaced++;
        } else {
          out.addMatrix(key, t.dtype, f.readMatrix(key));
        }
      }
    } finally {
      for (RemoteSafetensors w : open.values()) {
        w.close();
      }
    }
    Path dir = new Path(t.staging, t.method + "/" + t.name);
    FileSystem ofs = dir.getFileSystem(conf.get());
    try (OutputStream os = ofs.create(new Path(dir, AdapterDirectory.CONFIG), true)) {
      os.write(config);
    }
    try (OutputStream os = ofs.create(new Path(dir, AdapterDirectory.WEIGHTS), true)) {
      out.writeTo(os);
    }
    return replaced;
  }

  /** Modules of one adapter for {@link CorrectionMethod#select}: figures only, no factors. */
  static Map<String, ModuleCorrection> outcomesOf(List<ModuleResult> results, String method, int adapter) {
    Map<String, ModuleCorrection> out = new TreeMap<>();
    for (ModuleResult r : results) {
      int pos = r.adapterIndex.indexOf(adapter);
      if (pos >= 0) {
        out.put(r.module, new ModuleCorrection(null, null, r.figures.get(method).get(pos)));
      }
    }
    return out;
  }

  /** {@code selected} restricted to modules with a work file. */
  static Map<String, String> workOf(List<ModuleResult> results, String method, Set<String> selected) {
    Map<String, String> out = new TreeMap<>();
    for (ModuleResult r : results) {
      if (selected.contains(r.module)) {
        out.put(r.module, r.workFiles.get(method));
      }
    }
    return out;
  }
}
