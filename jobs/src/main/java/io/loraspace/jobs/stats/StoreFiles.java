package io.loraspace.jobs.stats;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.spark.HadoopConf;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The statistics store's files (docs/stats-store.md): one safetensors file per output key, written by the executor
 * that reduced it, and {@code store.json} written by the driver from what it learned of each file.
 */
final class StoreFiles {
  private StoreFiles() {}

  /** What one written file holds (the only per-key data the driver sees). */
  static final class Written implements Serializable {
    private static final long serialVersionUID = 1L;
    char kind;
    String dataset;
    String name;
    String site;
    int dim;
    int out;
    long tokens;
    long samples;
    long bytes;
    String file;
  }

  static Written writeTarget(HadoopConf conf, String staging, String key, StoreTarget t,
      Map<String, List<String>> siteModules, Map<String, String> moduleSite) throws java.io.IOException {
    Written w = new Written();
    w.kind = StatKeys.kind(key);
    if (w.kind == StatKeys.COUNTERS) {
      long[] c = PassTask.decodeCounters(t.counters);
      w.tokens = c[0];
      w.bytes = c[1];
      w.samples = c[2];
      return w;
    }
    String[] p = StatKeys.parts(key);
    w.dataset = p[0];
    w.name = p[1];
    SafetensorsWriter tensors;
    String sk = StatKeys.site(p[0], p[1]);
    if (w.kind == StatKeys.SITE) {
      tensors = StatsStore.siteTensors(p[0], p[1], siteModules.get(sk), t.tokens, t.samples);
      w.file = StatsStore.siteFile(p[0], p[1]);
      w.dim = t.tokens.dim();
      w.tokens = t.tokens.tokenCount();
      w.samples = t.samples.sampleCount();
    } else {
      t.cross.addSamples(t.gradSamples);
      tensors = StatsStore.moduleTensors(p[0], p[1], moduleSite.get(sk), t.cross, t.diag, t.gradSamples);
      w.file = StatsStore.moduleFile(p[0], p[1]);
      w.site = moduleSite.get(sk);
      w.dim = t.cross.inDim();
      w.out = t.cross.outDim();
      w.tokens = t.cross.tokenCount();
      w.samples = t.gradSamples;
    }
    Path path = new Path(staging, w.file);
    FileSystem fs = path.getFileSystem(conf.get());
    try (OutputStream os = fs.create(path, true)) {
      tensors.writeTo(os);
    }
    w.bytes = fs.getFileStatus(path).getLen();
    return w;
  }

  static void writeIndex(JobContext ctx, List<Written> written, Path storeDir) throws Exception {
    ObjectNode root = Manifest.json().createObjectNode();
    root.put("format", StatsStore.FORMAT).put("version", StatsStore.VERSION)
        .put("contract", ActivationContract.NAME).put("contractVersion", ActivationContract.VERSION);
    ArrayNode sitesNode = root.putArray("sites");
    ArrayNode modulesNode = root.putArray("modules");
    written.sort((a, b) -> a.file.compareTo(b.file));
    long bytes = 0;
    for (Written w : written) {
      bytes += w.bytes;
      if (w.kind == StatKeys.SITE) {
        sitesNode.addObject().put("dataset", w.dataset).put("site", w.name).put("dim", w.dim)
            .put("tokenCount", w.tokens).put("sampleCount", w.samples).put("file", w.file);
      } else {
        modulesNode.addObject().put("dataset", w.dataset).put("module", w.name).put("site", w.site)
            .put("out", w.out).put("in", w.dim).put("tokenCount", w.tokens).put("sampleCount", w.samples)
            .put("file", w.file);
      }
    }
    try (OutputStream os = ctx.outputFileSystem().create(new Path(storeDir, StatsStore.INDEX), true)) {
      os.write(Manifest.json().writerWithDefaultPrettyPrinter().writeValueAsString(root)
          .getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().count("storeFiles", written.size()).count("storeBytes", bytes);
  }
}
