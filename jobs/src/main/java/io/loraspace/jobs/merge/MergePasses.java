package io.loraspace.jobs.merge;

import io.loraspace.common.merge.FeatureGeometry;
import io.loraspace.common.merge.HeadDecomposition;
import io.loraspace.common.merge.MarginGrid;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.hadoop.fs.Path;

/**
 * The merge job's work on the executors. Pass 1 reads one feature file per task and projects every sample onto the
 * head's components ({@link HeadDecomposition#project}: (N+1)·K numbers per sample, kept on the executors for pass 2)
 * while accumulating each component's margins and the feature geometry. Pass 2 evaluates every coefficient vector of
 * the grid (and of the rules) on every projected sample. All accumulated state is minima, maxima and exact counts,
 * so results do not depend on how files are spread over tasks or in which order partials merge.
 */
final class MergePasses {
  private MergePasses() {}

  /** Sample keys: the global file index in the high bits, the row in the file in the low 40 bits. */
  static final int ROW_BITS = 40;

  static long key(int file, long row) {
    return ((long) file << ROW_BITS) | row;
  }

  static int fileOf(long key) {
    return (int) (key >>> ROW_BITS);
  }

  static long rowOf(long key) {
    return key & ((1L << ROW_BITS) - 1);
  }

  /** One input file of one dataset (0 = pre-training, i = task i). */
  record FileTask(int dataset, int file, String path) implements Serializable {}

  /** What pass 1 needs besides the file: the head and the column names. */
  record Projector(HeadDecomposition head, String featureColumn, String labelColumn, int datasets)
      implements Serializable {}

  /** One file's samples projected onto the components: labels and (N+1)·K logits per sample. */
  static final class Projected implements Serializable {
    private static final long serialVersionUID = 1L;
    int dataset;
    int file;
    int[] labels;
    double[] comps;
    MarginGrid components;
    FeatureGeometry geometry;
  }

  /** Pass-1 totals: each component alone on each dataset, and the feature geometry. */
  static final class Totals implements Serializable {
    private static final long serialVersionUID = 1L;
    final MarginGrid components;
    final FeatureGeometry geometry;

    Totals(int classes, int components, int datasets) {
      this.components = new MarginGrid(classes, components, datasets, identity(components));
      this.geometry = new FeatureGeometry(classes, components, datasets);
    }

    Totals add(Projected p) {
      components.merge(p.components);
      geometry.merge(p.geometry);
      return this;
    }

    Totals merge(Totals o) {
      components.merge(o.components);
      geometry.merge(o.geometry);
      return this;
    }
  }

  /** Coefficient vectors e_0 … e_N: each component alone. */
  static double[] identity(int components) {
    double[] out = new double[components * components];
    for (int c = 0; c < components; c++) {
      out[c * components + c] = 1;
    }
    return out;
  }

  /** Pass 1 on one file. Data errors (label, dimension, non-finite, nulls) name the file and row. */
  static Projected project(HadoopConf conf, FileTask t, Projector pr) throws IOException {
    HeadDecomposition h = pr.head();
    int k = h.classes();
    int d = h.dim();
    int width = h.components() * k;
    Projected out = new Projected();
    out.dataset = t.dataset();
    out.file = t.file();
    out.components = new MarginGrid(k, h.components(), pr.datasets(), identity(h.components()));
    out.geometry = new FeatureGeometry(k, h.components(), pr.datasets());
    int[] labels = new int[1024];
    double[] comps = new double[1024 * width];
    double[] x = new double[d];
    double[] scratch = new double[h.scratchLength()];
    int n = 0;
    long read0 = TaskInput.threadBytesRead();
    try (FeatureParquet.Reader r = FeatureParquet.Reader.open(conf.get(), new Path(t.path()), pr.featureColumn(),
        pr.labelColumn())) {
      while (r.next(x, 0, d, k)) {
        if (n == labels.length) {
          labels = Arrays.copyOf(labels, 2 * n);
          comps = Arrays.copyOf(comps, 2 * n * width);
        }
        labels[n] = r.label();
        h.project(x, 0, scratch, comps, n * width);
        out.components.update(t.dataset(), r.label(), comps, n * width, key(t.file(), r.row()));
        out.geometry.update(t.dataset(), x, 0, d, comps, n * width);
        n++;
      }
    } finally {
      TaskInput.reportSince(read0);
    }
    out.labels = Arrays.copyOf(labels, n);
    out.comps = Arrays.copyOf(comps, n * width);
    return out;
  }

  /** Pass 2: every point of {@code grid} on every sample of {@code p}; returns {@code grid}. */
  static MarginGrid evaluate(MarginGrid grid, Projected p) {
    int width = p.labels.length == 0 ? 0 : p.comps.length / p.labels.length;
    for (int s = 0; s < p.labels.length; s++) {
      grid.update(p.dataset, p.labels[s], p.comps, s * width, key(p.file, s));
    }
    return grid;
  }
}
