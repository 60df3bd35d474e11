package io.loraspace.jobs.inputs;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.LoraspaceException;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.AdapterDirectory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A collection of PEFT adapter directories of one base model, as the driver sees it: configs and safetensors headers
 * only (no tensors). Sources: a parent directory (every directory below it holding {@code adapter_config.json}), a
 * manifest file (one adapter directory per line, relative to the manifest's directory or absolute), or an
 * {@code s3a://} / {@code hdfs://} prefix of either.
 */
public final class AdapterCollection {
  private static final Logger LOG = LoggerFactory.getLogger(AdapterCollection.class);
  private static final Pattern KEY = Pattern.compile("^base_model\\.model\\.(.+)\\.lora_([AB])\\.weight$");

  /** One adapter: where it is and, per module, its rank, shapes and scaling ({r, in, out}). */
  public static final class Adapter implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final String dir;
    public final String baseModel;
    /** module → {r, in, out}. */
    public final Map<String, int[]> shapes = new TreeMap<>();
    public final Map<String, Double> scaling = new TreeMap<>();

    Adapter(String name, String dir, String baseModel) {
      this.name = name;
      this.dir = dir;
      this.baseModel = baseModel;
    }
  }

  public final String source;
  public final List<Adapter> adapters = new ArrayList<>();
  /** Adapters skipped as corrupt: directory → reason. */
  public final Map<String, String> skipped = new LinkedHashMap<>();

  private AdapterCollection(String source) {
    this.source = source;
  }

  /** Every module of the collection → {in, out}; adapters disagreeing on a shape fail naming both. */
  public Map<String, int[]> moduleShapes() {
    Map<String, int[]> out = new TreeMap<>();
    Map<String, String> firstOwner = new TreeMap<>();
    for (Adapter a : adapters) {
      for (Map.Entry<String, int[]> e : a.shapes.entrySet()) {
        int[] s = e.getValue();
        int[] seen = out.get(e.getKey());
        if (seen == null) {
          out.put(e.getKey(), new int[] {s[1], s[2]});
          firstOwner.put(e.getKey(), a.dir);
        } else if (seen[0] != s[1] || seen[1] != s[2]) {
          throw new FormatException("Adapters of different base shapes: module '" + e.getKey() + "' is " + seen[0]
              + "→" + seen[1] + " (in→out) in " + firstOwner.get(e.getKey()) + " but " + s[1] + "→" + s[2] + " in "
              + a.dir);
        }
      }
    }
    return out;
  }

  public static AdapterCollection scan(Configuration conf, String source, boolean skipCorrupt) {
    AdapterCollection c = new AdapterCollection(source);
    List<Path> dirs = list(conf, source);
    if (dirs.isEmpty()) {
      throw new ArgumentException("Collection '" + source + "' holds no PEFT adapter directories (no "
          + AdapterDirectory.CONFIG + " found)");
    }
    long t0 = System.nanoTime();
    int done = 0;
    for (Path dir : dirs) {
      try {
        c.adapters.add(read(conf, dir));
      } catch (LoraspaceException | IOException e) {
        String msg = e.getMessage();
        if (!skipCorrupt) {
          throw new FormatException("Corrupt adapter " + dir + ": " + msg + " (option skip-corrupt=true skips it and"
              + " lists it in the manifest)", e);
        }
        LOG.warn("skipping corrupt adapter {}: {}", dir, msg);
        c.skipped.put(dir.toString(), msg);
      }
      done++;
      if (done % 50 == 0 || done == dirs.size()) {
        double s = (System.nanoTime() - t0) / 1e9;
        LOG.info("scanned {}/{} adapter headers ({} adapters/s)", done, dirs.size(),
            String.format("%.1f", done / Math.max(s, 1e-9)));
      }
    }
    if (c.adapters.isEmpty()) {
      throw new ArgumentException("Collection '" + source + "' has no readable adapter (" + c.skipped.size()
          + " skipped as corrupt)");
    }
    TreeSet<String> bases = new TreeSet<>();
    c.adapters.forEach(a -> bases.add(String.valueOf(a.baseModel)));
    if (bases.size() > 1) {
      LOG.warn("adapters name {} different base models: {} (shapes are checked per module)", bases.size(),
          bases);
    }
    return c;
  }

  private static List<Path> list(Configuration conf, String source) {
    Path p = new Path(source);
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) {
        throw new ArgumentException("Collection '" + source + "' does not exist");
      }
      FileStatus st = fs.getFileStatus(p);
      List<Path> out = new ArrayList<>();
      if (st.isFile()) {
        try (InputStream in = fs.open(p);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty() || line.startsWith("#")) {
              continue;
            }
            Path d = new Path(line);
            out.add(d.isAbsolute() || d.toUri().getScheme() != null ? d : new Path(p.getParent(), line));
          }
        }
        return out;
      }
      TreeSet<String> dirs = new TreeSet<>();
      RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
      while (it.hasNext()) {
        LocatedFileStatus f = it.next();
        if (f.getPath().getName().equals(AdapterDirectory.CONFIG)) {
          dirs.add(f.getPath().getParent().toString());
        }
      }
      dirs.forEach(d -> out.add(new Path(d)));
      return out;
    } catch (IOException e) {
      throw new FormatException("Cannot list collection '" + source + "': " + e.getMessage(), e);
    }
  }

  private static Adapter read(Configuration conf, Path dir) throws IOException {
    FileSystem fs = dir.getFileSystem(conf);
    Path cfgPath = new Path(dir, AdapterDirectory.CONFIG);
    if (!fs.exists(cfgPath)) {
      throw new FormatException("no " + AdapterDirectory.CONFIG);
    }
    byte[] cfgBytes;
    try (InputStream in = fs.open(cfgPath)) {
      cfgBytes = in.readAllBytes();
    }
    AdapterConfig config = AdapterConfig.parse(cfgBytes, cfgPath.toString());
    Path weights = new Path(dir, AdapterDirectory.WEIGHTS);
    if (!fs.exists(weights)) {
      throw new FormatException(AdapterDirectory.missingWeights(RemoteSafetensors.local(dir),
          fs.exists(new Path(dir, AdapterDirectory.PICKLE_WEIGHTS))));
    }
    Adapter a = new Adapter(dir.getName(), dir.toString(), config.baseModelNameOrPath());
    Map<String, long[][]> pairs = new TreeMap<>();
    try (RemoteSafetensors f = RemoteSafetensors.open(fs, weights)) {
      for (Map.Entry<String, RemoteSafetensors.Entry> e : f.tensors().entrySet()) {
        Matcher m = KEY.matcher(e.getKey());
        if (!m.matches()) {
          throw new FormatException(weights + ": tensor '" + e.getKey() + "' is not a LoRA factor of a linear layer");
        }
        if (e.getValue().shape.length != 2) {
          throw new FormatException(weights + ": tensor '" + e.getKey() + "' is not 2-D");
        }
        long[][] pair = pairs.computeIfAbsent(m.group(1), k -> new long[2][]);
        pair[m.group(2).equals("A") ? 0 : 1] = e.getValue().shape;
      }
    }
    if (pairs.isEmpty()) {
      throw new FormatException(weights + ": no LoRA factors");
    }
    for (Map.Entry<String, long[][]> e : pairs.entrySet()) {
      String module = e.getKey();
      long[] sa = e.getValue()[0];
      long[] sb = e.getValue()[1];
      if (sa == null || sb == null) {
        throw new FormatException(weights + ": module '" + module + "' has only lora_" + (sa == null ? "B" : "A"));
      }
      int r = config.rankOf(module);
      if (sa[0] != r || sb[1] != r) {
        throw new FormatException(weights + ": module '" + module + "' has lora_A [" + sa[0] + ", " + sa[1]
            + "] and lora_B [" + sb[0] + ", " + sb[1] + "] but " + AdapterDirectory.CONFIG + " gives r = " + r);
      }
      a.shapes.put(module, new int[] {r, (int) sa[1], (int) sb[0]});
      a.scaling.put(module, config.scaling(module));
    }
    return a;
  }
}
