package io.loraspace.jobs.merge;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.ShardedCheckpoint;
import io.loraspace.common.io.safetensors.TensorInfo;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.merge.HeadDecomposition;
import io.loraspace.jobs.inputs.InputFiles;
import io.loraspace.jobs.output.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The merge job's inputs, read and checked on the driver before Spark starts: the head tensor of the checkpoint, the
 * adapters (each must adapt exactly the head's module, with factors of the head's shape), and the feature datasets
 * (files exist, footers have the feature and label columns, labels within the head's classes where the footer has
 * statistics, no dataset empty, the first row's vector has the head's input dimension). Remote inputs (hdfs://,
 * s3a://) are copied to a local temporary directory: the head's file (or its shard) and the adapters' two files.
 */
final class MergeInputs {
  /** One labelled dataset: 0 = pre-training, i = task i. */
  record Dataset(String name, String location, List<String> files, long rows) {}

  final String headTensor;
  final String module;
  final Dtype headDtype;
  final DenseMatrix head;
  final List<LoraAdapter> adapters = new ArrayList<>();
  final HeadDecomposition decomposition;
  final List<Dataset> datasets = new ArrayList<>();
  /** True when the checkpoint has {@code <module>.bias}: the theory's head has none, so margins ignore it. */
  boolean biasIgnored;

  private MergeInputs(String headTensor, Dtype dtype, DenseMatrix head, List<LoraAdapter> adapters,
      List<String> adapterPaths) {
    this.headTensor = headTensor;
    this.module = headTensor.substring(0, headTensor.length() - ".weight".length());
    this.headDtype = dtype;
    this.head = head;
    int n = adapters.size();
    double[] s = new double[n];
    DenseMatrix[] as = new DenseMatrix[n];
    DenseMatrix[] bs = new DenseMatrix[n];
    for (int i = 0; i < n; i++) {
      LoraAdapter a = adapters.get(i);
      String path = adapterPaths.get(i);
      if (!a.modules().containsKey(module)) {
        throw new ArgumentException("Adapter '" + path + "' has no module '" + module + "' (its modules: "
            + a.modules().keySet() + "): it is not an adapter on the head '" + headTensor + "'");
      }
      if (a.modules().size() > 1) {
        throw new ArgumentException("Adapter '" + path + "' also adapts " + others(a, module) + ": the merge theory covers "
            + "LoRA on the linear head '" + module + "' over frozen features only");
      }
      LoraAdapter.Factors f = a.factors(module);
      if (f.in() != head.cols() || f.out() != head.rows()) {
        throw new ArgumentException("Adapter '" + path + "' module '" + module + "' has lora_A "
            + f.a().shapeString() + " and lora_B " + f.b().shapeString() + ", but the head '" + headTensor
            + "' has shape " + head.shapeString());
      }
      checkFinite(f.a(), "Adapter '" + path + "' lora_A");
      checkFinite(f.b(), "Adapter '" + path + "' lora_B");
      s[i] = a.config().scaling(module);
      as[i] = f.a();
      bs[i] = f.b();
      this.adapters.add(a);
    }
    this.decomposition = new HeadDecomposition(head, s, as, bs);
  }

  private static List<String> others(LoraAdapter a, String module) {
    List<String> out = new ArrayList<>(a.modules().keySet());
    out.remove(module);
    return out;
  }

  private static void checkFinite(DenseMatrix m, String what) {
    for (int i = 0; i < m.rows(); i++) {
      for (int j = 0; j < m.cols(); j++) {
        double v = m.get(i, j);
        if (!Double.isFinite(v)) {
          throw new FormatException(what + " has " + v + " at [" + i + ", " + j + "]");
        }
      }
    }
  }

  /** Reads and checks everything; {@code tmp} receives copies of remote files (the caller deletes it). */
  static MergeInputs load(Configuration conf, MergeJob.Settings s, java.nio.file.Path tmp) throws IOException {
    if (!s.head.endsWith(".weight") || s.head.length() == ".weight".length()) {
      throw new ArgumentException("Option 'head' is '" + s.head + "', expected the name of a linear layer's weight "
          + "tensor ending in '.weight' (e.g. classifier.weight)");
    }
    if (s.taskData.size() != s.adapters.size()) {
      throw new ArgumentException("Option 'task-data' names " + s.taskData.size() + " datasets and 'adapters' "
          + s.adapters.size() + " adapters: give one dataset per adapter, in the same order");
    }
    DenseMatrix head;
    Dtype dtype;
    boolean bias;
    java.nio.file.Path local = localCheckpoint(conf, s.checkpoint, s.head, tmp);
    try (ShardedCheckpoint ckpt = ShardedCheckpoint.open(local)) {
      if (!ckpt.contains(s.head)) {
        List<String> names = ckpt.tensorNames();
        throw new ArgumentException("Checkpoint '" + s.checkpoint + "' has no tensor '" + s.head + "' (it has "
            + names.size() + " tensors" + (names.isEmpty() ? "" : ", e.g. " + names.subList(0, Math.min(5,
            names.size()))) + ")");
      }
      TensorInfo info = ckpt.info(s.head);
      if (info.rank() != 2 || !info.dtype().isFloating()) {
        throw new ArgumentException("Tensor '" + s.head + "' of '" + s.checkpoint + "' has shape " + info.shapeString()
            + " and dtype " + info.dtype() + ", expected a 2-D floating-point weight [classes, features]");
      }
      dtype = info.dtype();
      head = ckpt.readMatrix(s.head);
      bias = ckpt.contains(s.head.substring(0, s.head.length() - "weight".length()) + "bias");
    }
    checkFinite(head, "Tensor '" + s.head + "'");
    List<LoraAdapter> adapters = new ArrayList<>();
    for (int i = 0; i < s.adapters.size(); i++) {
      adapters.add(AdapterDirectory.read(localAdapter(conf, s.adapters.get(i), tmp.resolve("adapter-" + i))));
    }
    MergeInputs in = new MergeInputs(s.head, dtype, head, adapters, s.adapters);
    in.biasIgnored = bias;
    in.addDataset(conf, s, "pre", s.preData);
    for (int i = 0; i < s.taskData.size(); i++) {
      in.addDataset(conf, s, "task-" + (i + 1), List.of(s.taskData.get(i)));
    }
    return in;
  }

  private void addDataset(Configuration conf, MergeJob.Settings s, String name, List<String> locations)
      throws IOException {
    List<String> files = InputFiles.list(conf, locations);
    long rows = 0;
    String first = null;
    for (String f : files) {
      long r = FeatureParquet.check(conf, new Path(f), s.featureColumn, s.labelColumn, head.rows()).rows();
      if (r > 0 && first == null) {
        first = f;
      }
      rows += r;
    }
    String where = String.join(",", locations);
    if (rows == 0) {
      throw new ArgumentException("Dataset '" + name + "' (" + where + ") is empty: its " + files.size()
          + " Parquet file(s) hold no rows");
    }
    try (FeatureParquet.Reader r = FeatureParquet.Reader.open(conf, new Path(first), s.featureColumn, s.labelColumn)) {
      r.next(new double[head.cols()], 0, head.cols(), head.rows());
    }
    datasets.add(new Dataset(name, where, files, rows));
  }

  private static boolean isLocal(Path p) {
    String scheme = p.toUri().getScheme();
    return scheme == null || scheme.equals("file");
  }

  private static java.nio.file.Path localPath(Path p) {
    return java.nio.file.Path.of(p.toUri().getPath());
  }

  private static java.nio.file.Path copy(FileSystem fs, Path from, java.nio.file.Path to) throws IOException {
    Files.createDirectories(to.getParent());
    try (InputStream in = fs.open(from)) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
    return to;
  }

  /** The checkpoint as a local path: itself when local, else the remote file (or the shard holding the tensor). */
  private static java.nio.file.Path localCheckpoint(Configuration conf, String location, String tensor,
      java.nio.file.Path tmp) throws IOException {
    Path p = new Path(location);
    if (isLocal(p)) {
      return localPath(p);
    }
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p)) {
      throw new FormatException(location + ": no such checkpoint file or directory");
    }
    java.nio.file.Path dir = tmp.resolve("checkpoint");
    if (fs.getFileStatus(p).isFile()) {
      return copy(fs, p, dir.resolve(p.getName()));
    }
    Path index = new Path(p, ShardedCheckpoint.INDEX);
    if (!fs.exists(index)) {
      return copy(fs, new Path(p, ShardedCheckpoint.SINGLE), dir.resolve(ShardedCheckpoint.SINGLE));
    }
    JsonNode map;
    try (InputStream in = fs.open(index)) {
      map = Manifest.json().readTree(in).path("weight_map");
    }
    String shard = map.path(tensor).asText(null);
    if (shard == null) {
      throw new ArgumentException("Checkpoint '" + location + "' has no tensor '" + tensor + "' (not in "
          + ShardedCheckpoint.INDEX + ")");
    }
    return copy(fs, new Path(p, shard), dir.resolve(new Path(shard).getName()));
  }

  private static java.nio.file.Path localAdapter(Configuration conf, String location, java.nio.file.Path to)
      throws IOException {
    Path p = new Path(location);
    if (isLocal(p)) {
      return localPath(p);
    }
    FileSystem fs = p.getFileSystem(conf);
    for (String f : List.of(AdapterDirectory.CONFIG, AdapterDirectory.WEIGHTS)) {
      Path src = new Path(p, f);
      if (!fs.exists(src)) {
        throw new FormatException(location + ": no " + f + " (not a PEFT adapter directory)");
      }
      copy(fs, src, to.resolve(f));
    }
    return to;
  }
}
