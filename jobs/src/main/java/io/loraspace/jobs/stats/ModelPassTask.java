package io.loraspace.jobs.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import io.loraspace.jobs.stats.model.GpuDevice;
import io.loraspace.jobs.stats.model.ModelFiles;
import io.loraspace.jobs.stats.model.ModelSpec;
import io.loraspace.jobs.stats.model.ModelWorker;
import io.loraspace.jobs.stats.model.ModelWorkers;
import io.loraspace.jobs.stats.model.TokenCorpusReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The map side of a model-mode pass: the task reads its token-corpus file, streams each sample of the selected
 * datasets to this executor's model worker (forward, and backward with gradients, on the task's GPU or the CPU), and
 * at the end of the file receives the worker's fp64 statistics as the same records {@link PassTask} emits. Only those
 * records leave the worker; no activation is written anywhere.
 */
final class ModelPassTask implements PassMapper {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ModelPassTask.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Fault-injection hook of the worker-kill test: a marker path; the first worker to serve its third sample while the
   * marker does not exist creates it and kills itself with SIGKILL.
   */
  static final String TEST_DIE_ONCE_PROPERTY = "loraspace.test.worker-die-once";

  private final HadoopConf conf;
  private final ModelSpec spec;
  private final Set<String> siteKeys;
  private final Set<String> moduleKeys;
  private final int pass;
  private final long logIntervalMillis;

  ModelPassTask(HadoopConf conf, ModelSpec spec, Set<String> siteKeys, Set<String> moduleKeys, int pass,
      long logIntervalMillis) {
    this.conf = conf;
    this.spec = spec;
    this.siteKeys = new TreeSet<>(siteKeys);
    this.moduleKeys = new TreeSet<>(moduleKeys);
    this.pass = pass;
    this.logIntervalMillis = logIntervalMillis;
  }

  /** The worker of this task: pooled per (interpreter, model, device, dtype, modules). */
  static ModelWorker worker(HadoopConf conf, ModelSpec spec) throws IOException {
    String model = ModelFiles.localize(conf.get(), spec.model);
    String device = "cpu";
    if (spec.device.equals("auto")) {
      TaskContext tc = TaskContext.get();
      List<String> addresses = new ArrayList<>();
      if (tc != null) {
        scala.Option<ResourceInformation> gpu = tc.resources().get("gpu");
        if (gpu.isDefined()) {
          addresses.addAll(Arrays.asList(gpu.get().addresses()));
        }
      }
      device = GpuDevice.forTask(addresses, System.getenv("CUDA_VISIBLE_DEVICES"));
    }
    Map<String, String> env = new LinkedHashMap<>();
    // torch's intra-op threads = the task's cores, as for BLAS: concurrent tasks' workers must not oversubscribe.
    TaskContext current = TaskContext.get();
    env.put("LORASPACE_WORKER_THREADS", Integer.toString(current == null ? 1 : Math.max(1, current.cpus())));
    String dieOnce = System.getProperty(TEST_DIE_ONCE_PROPERTY);
    if (dieOnce != null) {
      env.put("LORASPACE_WORKER_TEST_DIE_ONCE", dieOnce);
    }
    String key = spec.python + "|" + model + "|" + device + "|" + spec.dtype + "|" + spec.modules + "|" + env;
    ModelWorker w = ModelWorkers.borrow(key, spec.python, env, spec.timeoutSeconds * 1000);
    w.modelDir = model;
    w.device = device;
    return w;
  }

  /** A unit of work with a borrowed worker. */
  interface WorkerCall<T> {
    T run(ModelWorker w) throws IOException;
  }

  /**
   * Runs {@code call} with this task's worker; returns the worker to the pool afterwards when it is healthy (a data
   * or option error leaves it usable: the next configure resets it), discards it otherwise.
   */
  static <T> T withWorker(HadoopConf conf, ModelSpec spec, WorkerCall<T> call) throws IOException {
    ModelWorker w = worker(conf, spec);
    boolean healthy = false;
    try {
      T result = call.run(w);
      healthy = true;
      return result;
    } catch (io.loraspace.common.error.LoraspaceException e) {
      healthy = w.alive();
      throw e;
    } finally {
      if (healthy) {
        ModelWorkers.release(w);
      } else {
        ModelWorkers.discard(w);
      }
    }
  }

  /** The request fields that say which model the worker runs. */
  static ObjectNode modelRequest(String op, ModelWorker w, ModelSpec spec) {
    ObjectNode h = JSON.createObjectNode();
    h.put("op", op).put("model", w.modelDir).put("dtype", spec.dtype).put("device", w.device)
        .put("modules", spec.modules).put("non_finite", spec.nonFinite);
    return h;
  }

  @Override
  public Iterator<Tuple2<String, byte[]>> run(Iterator<String> files) throws IOException {
    Set<String> sites = new TreeSet<>();
    Set<String> modules = new TreeSet<>();
    Set<String> datasets = new TreeSet<>();
    for (String k : siteKeys) {
      String[] p = k.split(String.valueOf(StatKeys.SEP), -1);
      datasets.add(p[0]);
      sites.add(p[1]);
    }
    for (String k : moduleKeys) {
      String[] p = k.split(String.valueOf(StatKeys.SEP), -1);
      datasets.add(p[0]);
      modules.add(p[1]);
    }
    long timeout = spec.timeoutSeconds * 1000;
    return withWorker(conf, spec, w -> {
      ObjectNode configure = modelRequest("configure", w, spec);
      configure.set("sites", JSON.valueToTree(sites));
      configure.set("grad_modules", JSON.valueToTree(modules));
      configure.put("gradients", !modules.isEmpty());
      w.call(configure, null, timeout);
      long t0 = System.nanoTime();
      long tokens = stream(w, files, datasets, timeout);
      long t1 = System.nanoTime();
      ModelWorker.Reply flushed = w.call(JSON.createObjectNode().put("op", "flush"), null, timeout);
      List<Tuple2<String, byte[]>> out = records(flushed);
      JsonNode secs = flushed.header.path("seconds");
      LOG.info(String.format("stats pass %d (model, %s): %d samples, %d tokens in %.1f s (%.0f tokens/s; worker: forward"
          + " %.1f s, statistics %.1f s), flush %.1f MiB in %.1f s (worker %.1f s)", pass, w.device,
          flushed.header.path("rows").asLong(), tokens, (t1 - t0) / 1e9, tokens / Math.max(1e-9, (t1 - t0) / 1e9),
          secs.path("forward").asDouble(), secs.path("statistics").asDouble(), flushed.payload.length / 1048576.0,
          (System.nanoTime() - t1) / 1e9, secs.path("flush").asDouble()));
      out.add(new Tuple2<>(StatKeys.key(StatKeys.COUNTERS), PassTask.tagged(StatKeys.COUNTERS,
          PassTask.encodeCounters(flushed.header.path("rows").asLong(), 4L * tokens,
              flushed.header.path("skipped").asLong()))));
      return out.iterator();
    });
  }

  /**
   * Streams every sample of the selected datasets in the task's slices ({@code file, firstRow, endRow}, see
   * {@link ModelScan#slices}) to the worker; returns the tokens sent.
   */
  private long stream(ModelWorker w, Iterator<String> files, Set<String> datasets, long timeout) throws IOException {
    long t0 = System.currentTimeMillis();
    long lastLog = t0;
    long samples = 0;
    long tokens = 0;
    long readBefore = TaskInput.threadBytesRead();
    while (files.hasNext()) {
      String[] slice = files.next().split(String.valueOf(ModelScan.SLICE_SEP), -1);
      long from = Long.parseLong(slice[1]);
      long to = Long.parseLong(slice[2]);
      try (TokenCorpusReader r = TokenCorpusReader.open(conf.get(), new Path(slice[0]))) {
        TokenCorpusReader.Sample s;
        for (long row = 0; row < to && (s = r.next()) != null; row++) {
          if (row < from || !datasets.contains(s.dataset)) {
            continue;
          }
          ObjectNode h = JSON.createObjectNode();
          h.put("op", "sample").put("dataset", s.dataset).put("sample", s.sample).put("where", r.where());
          ByteBuffer ids = ByteBuffer.allocate(4 * s.ids.length).order(ByteOrder.LITTLE_ENDIAN);
          for (int id : s.ids) {
            ids.putInt(id);
          }
          w.call(h, ids.array(), timeout);
          samples++;
          tokens += s.ids.length;
          long now = System.currentTimeMillis();
          if (now - lastLog >= logIntervalMillis) {
            lastLog = now;
            double secs = (now - t0) / 1000.0;
            LOG.info(String.format("stats pass %d (model, %s): %d samples, %d tokens (%.1f tokens/s)", pass,
                w.device, samples, tokens, tokens / secs));
          }
        }
      }
    }
    TaskInput.reportSince(readBefore);
    return tokens;
  }

  /** The flushed statistics as shuffle records, keeping only this pass's keys. */
  private List<Tuple2<String, byte[]>> records(ModelWorker.Reply r) {
    List<Tuple2<String, byte[]>> out = new ArrayList<>();
    int off = 0;
    for (JsonNode rec : r.header.path("records")) {
      int n = rec.path("bytes").asInt();
      if (off + n > r.payload.length) {
        throw new FormatException("Model worker reply is truncated: record " + rec + " ends past " + r.payload.length
            + " bytes");
      }
      int from = off;
      off += n;
      String ds = rec.path("dataset").asText();
      String name = rec.path("name").asText();
      String kindText = rec.path("kind").asText();
      char kind = kindText.isEmpty() ? '?' : kindText.charAt(0);
      boolean site = kind == StatKeys.TOKEN || kind == StatKeys.SAMPLE;
      if (!(site ? siteKeys : moduleKeys).contains(StatKeys.site(ds, name))) {
        continue;
      }
      String key = (kind == StatKeys.SAMPLE || kind == StatKeys.GRAD_SAMPLE)
          ? StatKeys.key(kind, ds, name, rec.path("sample").asText()) : StatKeys.key(kind, ds, name);
      out.add(new Tuple2<>(key, PassTask.tagged(kind, r.payload, from, n)));
    }
    if (off != r.payload.length) {
      throw new FormatException("Model worker reply has " + (r.payload.length - off) + " bytes after its records");
    }
    return out;
  }
}
