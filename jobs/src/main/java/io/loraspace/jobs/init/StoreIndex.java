package io.loraspace.jobs.init;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.store.StatsStore;
import io.loraspace.jobs.output.Manifest;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The driver's view of a statistics store (docs/stats-store.md): {@code store.json} plus the metadata of every site
 * file (which modules read the site, Σ T_s²), read through Hadoop so a store on HDFS or S3 works. Only headers are
 * read here; tensors are read by the tasks that need them.
 */
public final class StoreIndex {
  /** One (dataset, site) entry. */
  public static final class Site {
    public final String dataset;
    public final String site;
    public final int dim;
    public final long tokens;
    public final long samples;
    public final double sumTokensSquared;
    public final List<String> modules;
    public final String file;

    Site(String dataset, String site, int dim, long tokens, long samples, double sumTokensSquared,
        List<String> modules, String file) {
      this.dataset = dataset;
      this.site = site;
      this.dim = dim;
      this.tokens = tokens;
      this.samples = samples;
      this.sumTokensSquared = sumTokensSquared;
      this.modules = modules;
      this.file = file;
    }
  }

  /** One (dataset, module) entry with gradient statistics. */
  public static final class ModuleStats {
    public final String dataset;
    public final String module;
    public final String site;
    public final int out;
    public final int in;
    public final long tokens;
    public final long samples;
    public final String file;

    ModuleStats(String dataset, String module, String site, int out, int in, long tokens, long samples, String file) {
      this.dataset = dataset;
      this.module = module;
      this.site = site;
      this.out = out;
      this.in = in;
      this.tokens = tokens;
      this.samples = samples;
      this.file = file;
    }
  }

  private final String location;
  private final List<Site> sites;
  private final Map<String, Map<String, Site>> siteOfModule = new LinkedHashMap<>();
  private final Map<String, Map<String, ModuleStats>> gradients = new LinkedHashMap<>();

  private StoreIndex(String location, List<Site> sites, List<ModuleStats> modules) {
    this.location = location;
    this.sites = sites;
    for (ModuleStats m : modules) {
      gradients.computeIfAbsent(m.dataset, k -> new LinkedHashMap<>()).put(m.module, m);
    }
    for (Site s : sites) {
      for (String m : s.modules) {
        siteOfModule.computeIfAbsent(s.dataset, k -> new LinkedHashMap<>()).put(m, s);
      }
    }
  }

  public String location() {
    return location;
  }

  public List<Site> sites() {
    return sites;
  }

  /** Datasets with site statistics, in store order. */
  public List<String> datasets() {
    Set<String> d = new LinkedHashSet<>();
    sites.forEach(s -> d.add(s.dataset));
    return new ArrayList<>(d);
  }

  /** Every module some site of some dataset feeds, in store order. */
  public Set<String> modules() {
    Set<String> out = new LinkedHashSet<>();
    for (Map<String, Site> m : siteOfModule.values()) {
      out.addAll(m.keySet());
    }
    return out;
  }

  /** The site of {@code dataset} that {@code module} reads, or null. */
  public Site siteOf(String dataset, String module) {
    Map<String, Site> m = siteOfModule.get(dataset);
    return m == null ? null : m.get(module);
  }

  /** The gradient statistics of {@code module} in {@code dataset}, or null. */
  public ModuleStats gradientsOf(String dataset, String module) {
    Map<String, ModuleStats> m = gradients.get(dataset);
    return m == null ? null : m.get(module);
  }

  /** Modules of {@code dataset} with gradient statistics, in store order. */
  public List<String> gradientModules(String dataset) {
    Map<String, ModuleStats> m = gradients.get(dataset);
    return m == null ? List.of() : new ArrayList<>(m.keySet());
  }

  /** No store: for runs whose methods are all data-free (no module has statistics, reports skip captured energy). */
  public static StoreIndex none() {
    return new StoreIndex("(none)", List.of(), List.of());
  }

  /** Reads {@code <store>/store.json} and the site headers; a foreign or newer store fails naming the file. */
  public static StoreIndex load(Configuration conf, String store) {
    Path root = new Path(store);
    Path index = new Path(root, StatsStore.INDEX);
    JsonNode json;
    try {
      FileSystem fs = index.getFileSystem(conf);
      if (!fs.exists(index)) {
        throw new FormatException("Statistics store '" + store + "' has no " + StatsStore.INDEX
            + " (is it the output directory of a finished stats job?)");
      }
      try (InputStream in = fs.open(index)) {
        json = Manifest.json().readTree(in);
      }
      String format = json.path("format").asText("");
      if (!format.equals(StatsStore.FORMAT)) {
        throw new FormatException(index + ": format is '" + format + "', expected '" + StatsStore.FORMAT + "'");
      }
      int version = json.path("version").asInt(-1);
      if (version != StatsStore.VERSION) {
        throw new FormatException(index + ": store format version " + version + ", this loraspace reads version "
            + StatsStore.VERSION);
      }
      int contract = json.path("contractVersion").asInt(-1);
      if (!json.path("contract").asText("").equals(ActivationContract.NAME)
          || contract != ActivationContract.VERSION) {
        throw new FormatException(index + ": statistics of contract '" + json.path("contract").asText("")
            + "' version " + contract + ", this loraspace reads '" + ActivationContract.NAME + "' version "
            + ActivationContract.VERSION);
      }
      List<Site> sites = new ArrayList<>();
      for (JsonNode n : json.path("sites")) {
        String file = n.get("file").asText();
        Map<String, String> meta = headerMetadata(fs, new Path(root, file));
        List<String> modules = new ArrayList<>();
        for (JsonNode m : Manifest.json().readTree(meta.getOrDefault("modules", "[]"))) {
          modules.add(m.asText());
        }
        sites.add(new Site(n.get("dataset").asText(), n.get("site").asText(), n.get("dim").asInt(),
            n.get("tokenCount").asLong(), n.get("sampleCount").asLong(),
            Double.parseDouble(meta.getOrDefault("sum_tokens_squared", "0")), Collections.unmodifiableList(modules),
            file));
      }
      List<ModuleStats> modules = new ArrayList<>();
      for (JsonNode n : json.path("modules")) {
        modules.add(new ModuleStats(n.get("dataset").asText(), n.get("module").asText(), n.get("site").asText(),
            n.get("out").asInt(), n.get("in").asInt(), n.get("tokenCount").asLong(), n.get("sampleCount").asLong(),
            n.get("file").asText()));
      }
      return new StoreIndex(store, sites, modules);
    } catch (IOException e) {
      throw new FormatException("Cannot read statistics store '" + store + "': " + e.getMessage(), e);
    }
  }

  /** The {@code __metadata__} of a safetensors file, reading only its header. */
  static Map<String, String> headerMetadata(FileSystem fs, Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(fs.open(file))) {
      byte[] len = new byte[8];
      in.readFully(len);
      long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (n <= 0 || n > 100_000_000L) {
        throw new FormatException(file + ": safetensors header length " + n + " is invalid");
      }
      byte[] header = new byte[(int) n];
      in.readFully(header);
      JsonNode meta = Manifest.json().readTree(header).path("__metadata__");
      Map<String, String> out = new LinkedHashMap<>();
      meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    }
  }
}
