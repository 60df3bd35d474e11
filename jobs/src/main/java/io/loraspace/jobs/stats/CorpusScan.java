package io.loraspace.jobs.stats;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.activations.ActivationRow;
import io.loraspace.jobs.corpus.ActivationParquetReader;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;

/**
 * The metadata pass of the stats job: reads only the small columns of every file (no input payloads, gradient
 * entries without data) and reports, per (dataset, site) and per (dataset, module), dimensions, modules, rows and
 * tokens, with where each was first seen so that inconsistencies are reported naming both places.
 */
public final class CorpusScan implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What is known of one (dataset, site). */
  public static final class Site implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String dataset;
    public final String site;
    public final int dim;
    public final String firstSeen;
    public final Set<String> modules = new LinkedHashSet<>();
    public long rows;
    public long tokens;
    /** Rows per block dtype, and where each dtype was first seen. */
    public final Map<String, Long> dtypeRows = new TreeMap<>();
    public final Map<String, String> dtypeFirstSeen = new TreeMap<>();

    Site(String dataset, String site, int dim, String firstSeen) {
      this.dataset = dataset;
      this.site = site;
      this.dim = dim;
      this.firstSeen = firstSeen;
    }
  }

  /** What is known of one (dataset, module) with gradients. */
  public static final class Module implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String dataset;
    public final String module;
    public final String site;
    public final int out;
    public final int in;
    public final String firstSeen;
    public long rows;
    public long tokens;

    Module(String dataset, String module, String site, int out, int in, String firstSeen) {
      this.dataset = dataset;
      this.module = module;
      this.site = site;
      this.out = out;
      this.in = in;
      this.firstSeen = firstSeen;
    }
  }

  public final Map<String, Site> sites = new TreeMap<>();
  public final Map<String, Module> modules = new TreeMap<>();
  public long rows;
  public long fileBytes;

  /** Scans one file (on an executor). */
  public static CorpusScan scanFile(HadoopConf conf, String file) throws IOException {
    CorpusScan s = new CorpusScan();
    Path p = new Path(file);
    s.fileBytes = p.getFileSystem(conf.get()).getFileStatus(p).getLen();
    long read0 = TaskInput.threadBytesRead();
    try (ActivationParquetReader r = ActivationParquetReader.open(conf.get(), p, false, true, false)) {
      ActivationRow row;
      while ((row = r.next()) != null) {
        String where = file + " row " + r.rowIndex();
        s.rows++;
        String key = StatKeys.site(row.dataset(), row.site());
        Site site = s.sites.get(key);
        if (site == null) {
          site = new Site(row.dataset(), row.site(), row.dim(), where);
          s.sites.put(key, site);
        } else if (site.dim != row.dim()) {
          throw dimMismatch(row.site(), site.dim, site.firstSeen, row.dim(), where);
        }
        site.modules.addAll(row.modules());
        site.dtypeRows.merge(row.dtype().name(), 1L, Long::sum);
        site.dtypeFirstSeen.putIfAbsent(row.dtype().name(), where);
        site.rows++;
        site.tokens += row.tokens();
        for (ActivationRow.GradBlock g : row.grads()) {
          String mk = StatKeys.site(row.dataset(), g.module());
          Module m = s.modules.get(mk);
          if (m == null) {
            m = new Module(row.dataset(), g.module(), row.site(), g.dim(), row.dim(), where);
            s.modules.put(mk, m);
          } else if (m.out != g.dim() || m.in != row.dim() || !m.site.equals(row.site())) {
            throw new FormatException("Module '" + g.module() + "' has gradients of dim " + m.out + " on site '"
                + m.site + "' (input dim " + m.in + ") at " + m.firstSeen + " but dim " + g.dim() + " on site '"
                + row.site() + "' (input dim " + row.dim() + ") at " + where);
          }
          m.rows++;
          m.tokens += row.tokens();
        }
      }
    } finally {
      TaskInput.reportSince(read0);
    }
    return s;
  }

  private static FormatException dimMismatch(String site, int d1, String w1, int d2, String w2) {
    return new FormatException("Site '" + site + "' has dim " + d1 + " at " + w1 + " but dim " + d2 + " at " + w2
        + " (d must be constant within a site)");
  }

  /** Folds {@code other} into this one (on the driver; metadata only), checking consistency across files. */
  public CorpusScan merge(CorpusScan other) {
    rows += other.rows;
    fileBytes += other.fileBytes;
    for (Map.Entry<String, Site> e : other.sites.entrySet()) {
      Site mine = sites.get(e.getKey());
      Site o = e.getValue();
      if (mine == null) {
        sites.put(e.getKey(), o);
      } else {
        if (mine.dim != o.dim) {
          throw dimMismatch(o.site, mine.dim, mine.firstSeen, o.dim, o.firstSeen);
        }
        mine.modules.addAll(o.modules);
        o.dtypeRows.forEach((k, v) -> mine.dtypeRows.merge(k, v, Long::sum));
        o.dtypeFirstSeen.forEach(mine.dtypeFirstSeen::putIfAbsent);
        mine.rows += o.rows;
        mine.tokens += o.tokens;
      }
    }
    for (Map.Entry<String, Module> e : other.modules.entrySet()) {
      Module mine = modules.get(e.getKey());
      Module o = e.getValue();
      if (mine == null) {
        modules.put(e.getKey(), o);
      } else {
        if (mine.out != o.out || mine.in != o.in) {
          throw new FormatException("Module '" + o.module + "' has gradient dim " + mine.out + " at " + mine.firstSeen
              + " but " + o.out + " at " + o.firstSeen);
        }
        mine.rows += o.rows;
        mine.tokens += o.tokens;
      }
    }
    // The same site name must have one dim across datasets too (it is one tensor of one model).
    Map<String, Site> byName = new TreeMap<>();
    for (Site s : sites.values()) {
      Site seen = byName.putIfAbsent(s.site, s);
      if (seen != null && seen.dim != s.dim) {
        throw dimMismatch(s.site, seen.dim, seen.firstSeen, s.dim, s.firstSeen);
      }
    }
    return this;
  }

  /**
   * Fails when a (dataset, site) holds blocks of more than one dtype, unless {@code allowMixed}: a block tagged F16
   * that holds BF16 bytes (same length) decodes to wrong values without any other sign. The message names the rarest
   * dtype's first file and row (the likely mislabelled block) and every dtype with its row count.
   */
  public void checkDtypes(boolean allowMixed) {
    if (allowMixed) {
      return;
    }
    for (Site site : sites.values()) {
      if (site.dtypeRows.size() < 2) {
        continue;
      }
      String rare = null;
      List<String> seen = new ArrayList<>();
      for (Map.Entry<String, Long> e : site.dtypeRows.entrySet()) {
        if (rare == null || e.getValue() < site.dtypeRows.get(rare)) {
          rare = e.getKey();
        }
        seen.add(e.getKey() + " × " + e.getValue() + " (first at " + site.dtypeFirstSeen.get(e.getKey()) + ")");
      }
      throw new FormatException("Site '" + site.site + "' of dataset '" + site.dataset + "' mixes block dtypes: "
          + String.join(", ", seen) + "; the " + rare + " block at " + site.dtypeFirstSeen.get(rare) + " is probably"
          + " mislabelled (blocks of one dataset and site must share a dtype; allow-mixed-dtypes=true accepts it)");
    }
  }

  /** Per (dataset, site) ("dataset/site"), rows per block dtype, for the manifest. */
  public Map<String, Map<String, Long>> dtypeCounts() {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    for (Site site : sites.values()) {
      out.put(site.dataset + "/" + site.site, new TreeMap<>(site.dtypeRows));
    }
    return out;
  }

  public List<String> datasets() {
    Set<String> out = new LinkedHashSet<>();
    sites.values().forEach(s -> out.add(s.dataset));
    return new ArrayList<>(out);
  }
}
