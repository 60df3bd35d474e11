package io.loraspace.jobs.stats;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import io.loraspace.jobs.stats.model.ModelSpec;
import io.loraspace.jobs.stats.model.ModelWorker;
import io.loraspace.jobs.stats.model.TokenCorpusReader;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;

/**
 * The metadata pass of model mode: per token-corpus file, samples and tokens per dataset and the largest token id
 * (with where it is, for the vocabulary check); and the model's layout from one worker — its capture sites with the
 * modules reading each and their dimensions — so that keys can be selected and passes planned exactly as for
 * activation input.
 */
final class ModelScan implements Serializable {
  private static final long serialVersionUID = 1L;

  final Map<String, long[]> datasets = new TreeMap<>();
  /** Samples (rows) per file. */
  final Map<String, Long> fileRows = new TreeMap<>();
  long rows;
  long fileBytes;
  int maxId = -1;
  String maxIdWhere;

  static ModelScan scanFile(HadoopConf conf, String file) throws IOException {
    ModelScan s = new ModelScan();
    Path p = new Path(file);
    s.fileBytes = p.getFileSystem(conf.get()).getFileStatus(p).getLen();
    long before = TaskInput.threadBytesRead();
    try (TokenCorpusReader r = TokenCorpusReader.open(conf.get(), p)) {
      TokenCorpusReader.Sample sample;
      while ((sample = r.next()) != null) {
        s.rows++;
        long[] c = s.datasets.computeIfAbsent(sample.dataset, k -> new long[2]);
        c[0]++;
        c[1] += sample.ids.length;
        for (int i = 0; i < sample.ids.length; i++) {
          int id = sample.ids[i];
          if (id < 0) {
            throw new FormatException(r.where() + ": sample " + sample.sample + " of dataset '" + sample.dataset
                + "': token id " + id + " at position " + i + " is negative");
          }
          if (id > s.maxId) {
            s.maxId = id;
            s.maxIdWhere = r.where() + " (sample " + sample.sample + " of dataset '" + sample.dataset + "', position "
                + i + ")";
          }
        }
      }
    }
    TaskInput.reportSince(before);
    s.fileRows.put(file, s.rows);
    return s;
  }

  ModelScan merge(ModelScan o) {
    o.datasets.forEach((k, v) -> {
      long[] c = datasets.computeIfAbsent(k, x -> new long[2]);
      c[0] += v[0];
      c[1] += v[1];
    });
    rows += o.rows;
    fileBytes += o.fileBytes;
    fileRows.putAll(o.fileRows);
    if (o.maxId > maxId) {
      maxId = o.maxId;
      maxIdWhere = o.maxIdWhere;
    }
    return this;
  }

  /** Separates the fields of a task input: {@code file SEP firstRow SEP endRow}. */
  static final char SLICE_SEP = '\u0000';

  /**
   * The corpus cut into tasks of {@code samplesPerTask} consecutive samples of one file, in file order: the task
   * index orders the canonical reduce, so the cut depends only on the input and the option, never on the cluster.
   */
  List<String> slices(List<String> files, int samplesPerTask) {
    List<String> out = new ArrayList<>();
    for (String f : files) {
      long n = fileRows.getOrDefault(f, 0L);
      for (long from = 0; from < n; from += samplesPerTask) {
        out.add(f + SLICE_SEP + from + SLICE_SEP + Math.min(n, from + samplesPerTask));
      }
    }
    return out;
  }

  /** The model's layout, from a worker (run as a Spark task, so the driver needs no Python). */
  static String describe(HadoopConf conf, ModelSpec spec) throws IOException {
    return ModelPassTask.withWorker(conf, spec, w -> {
      ModelWorker.Reply r = w.call(ModelPassTask.modelRequest("describe", w, spec), null,
          spec.timeoutSeconds * 1000);
      com.fasterxml.jackson.databind.node.ObjectNode layout = (com.fasterxml.jackson.databind.node.ObjectNode)
          r.header.get("layout");
      layout.set("worker", w.hello());
      return layout.toString();
    });
  }

  /**
   * The layout every describe task reported, which must agree on what plans the passes (sites, their modules and
   * dimensions, modules, vocabulary): workers on executors with different Python packages could disagree. The first
   * layout is returned (its device and worker greeting are those of one worker).
   */
  static JsonNode sameLayout(List<String> layouts) throws IOException {
    JsonNode first = null;
    for (String l : layouts) {
      JsonNode layout = io.loraspace.jobs.output.Manifest.json().readTree(l);
      if (first == null) {
        first = layout;
      } else {
        for (String field : new String[] {"sites", "modules", "vocab"}) {
          if (!layout.path(field).equals(first.path(field))) {
            throw new io.loraspace.common.error.StateException("Model workers disagree on the model's " + field
                + ": one reported " + abbreviate(first.path(field)) + " (" + first.path("worker") + "), another "
                + abbreviate(layout.path(field)) + " (" + layout.path("worker")
                + "): executors with different torch/transformers versions?");
          }
        }
      }
    }
    return first;
  }

  private static String abbreviate(JsonNode n) {
    String s = n.toString();
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /**
   * The keys model mode can produce, as a {@link CorpusScan}: every (dataset, site) of the layout for every dataset of
   * the corpus, and with gradients every (dataset, module). Fails when a token id is outside the vocabulary.
   */
  CorpusScan asCorpus(JsonNode layout, boolean gradients) {
    int vocab = layout.path("vocab").asInt();
    if (maxId >= vocab) {
      throw new FormatException(maxIdWhere + ": token id " + maxId + " is outside the model's vocabulary (size "
          + vocab + ")");
    }
    CorpusScan c = new CorpusScan();
    c.rows = rows;
    c.fileBytes = fileBytes;
    for (Map.Entry<String, long[]> d : datasets.entrySet()) {
      for (JsonNode s : layout.path("sites")) {
        CorpusScan.Site site = new CorpusScan.Site(d.getKey(), s.path("site").asText(), s.path("dim").asInt(),
            "the model's layout");
        s.path("modules").forEach(m -> site.modules.add(m.asText()));
        site.rows = d.getValue()[0];
        site.tokens = d.getValue()[1];
        c.sites.put(StatKeys.site(d.getKey(), site.site), site);
      }
      if (gradients) {
        for (JsonNode m : layout.path("modules")) {
          CorpusScan.Module mod = new CorpusScan.Module(d.getKey(), m.path("module").asText(),
              m.path("site").asText(), m.path("out").asInt(), m.path("in").asInt(), "the model's layout");
          mod.rows = d.getValue()[0];
          mod.tokens = d.getValue()[1];
          c.modules.put(StatKeys.site(d.getKey(), mod.module), mod);
        }
      }
    }
    return c;
  }
}
