package io.loraspace.jobs.testing;

import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.activations.ActivationRow;
import io.loraspace.jobs.corpus.ActivationParquetReader;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The statistics of a corpus computed the plain way, for tests: every row read and decoded with a ByteBuffer loop
 * (not the production decoder), sums accumulated element by element in nested loops.
 */
public final class StoreReference {
  /** Reference statistics of one (dataset, site). */
  public static final class Site {
    public double[][] tokenGram;
    public double[] tokenSum;
    public long tokens;
    public final Map<Long, double[]> sampleSums = new TreeMap<>();
    public final Map<Long, Long> sampleTokens = new TreeMap<>();

    public double[][] sampleGram() {
      int d = tokenSum.length;
      double[][] s = new double[d][d];
      for (double[] v : sampleSums.values()) {
        for (int a = 0; a < d; a++) {
          for (int b = 0; b < d; b++) {
            s[a][b] += v[a] * v[b];
          }
        }
      }
      return s;
    }

    public double[] tokenWeightedSum() {
      double[] u = new double[tokenSum.length];
      for (Map.Entry<Long, double[]> e : sampleSums.entrySet()) {
        long t = sampleTokens.get(e.getKey());
        for (int j = 0; j < u.length; j++) {
          u[j] += t * e.getValue()[j];
        }
      }
      return u;
    }
  }

  /** Reference statistics of one (dataset, module). */
  public static final class Module {
    public double[][] cross;
    public double[] sqSum;
    public long tokens;
    public final java.util.Set<Long> samples = new java.util.TreeSet<>();
  }

  public final Map<String, Site> sites = new TreeMap<>();
  public final Map<String, Module> modules = new TreeMap<>();

  public static double[] decode(byte[] data, int n, Dtype dtype) {
    ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      switch (dtype) {
        case F32:
          out[i] = b.getFloat(4 * i);
          break;
        case F16:
          out[i] = Dtype.halfToFloat(b.getShort(2 * i));
          break;
        case BF16:
          out[i] = Dtype.bf16ToFloat(b.getShort(2 * i));
          break;
        default:
          throw new IllegalArgumentException(dtype.name());
      }
    }
    return out;
  }

  public static StoreReference of(File dir) throws Exception {
    StoreReference ref = new StoreReference();
    Configuration conf = new Configuration();
    File[] files = dir.listFiles((d, n) -> n.endsWith(".parquet"));
    java.util.Arrays.sort(files);
    for (File f : files) {
      try (ActivationParquetReader r = ActivationParquetReader.open(conf, new Path(f.toURI()), true, true)) {
        ActivationRow row;
        while ((row = r.next()) != null) {
          int t = row.tokens();
          int d = row.dim();
          double[] x = decode(row.input(), t * d, row.dtype());
          Site s = ref.sites.computeIfAbsent(row.dataset() + "|" + row.site(), k -> new Site());
          if (s.tokenGram == null) {
            s.tokenGram = new double[d][d];
            s.tokenSum = new double[d];
          }
          double[] sum = s.sampleSums.computeIfAbsent(row.sample(), k -> new double[d]);
          for (int i = 0; i < t; i++) {
            for (int a = 0; a < d; a++) {
              s.tokenSum[a] += x[i * d + a];
              sum[a] += x[i * d + a];
              for (int b = 0; b < d; b++) {
                s.tokenGram[a][b] += x[i * d + a] * x[i * d + b];
              }
            }
          }
          s.tokens += t;
          s.sampleTokens.merge(row.sample(), (long) t, Long::sum);
          for (ActivationRow.GradBlock gb : row.grads()) {
            int o = gb.dim();
            double[] g = decode(gb.data(), t * o, row.dtype());
            Module m = ref.modules.computeIfAbsent(row.dataset() + "|" + gb.module(), k -> new Module());
            if (m.cross == null) {
              m.cross = new double[o][d];
              m.sqSum = new double[o];
            }
            for (int i = 0; i < t; i++) {
              for (int a = 0; a < o; a++) {
                m.sqSum[a] += g[i * o + a] * g[i * o + a];
                for (int b = 0; b < d; b++) {
                  m.cross[a][b] += g[i * o + a] * x[i * d + b];
                }
              }
            }
            m.tokens += t;
            m.samples.add(row.sample());
          }
        }
      }
    }
    return ref;
  }

  /** max |a − b| / max |b| over all entries. */
  public static double relErr(double[] got, double[] want) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < want.length; i++) {
      num = Math.max(num, Math.abs(got[i] - want[i]));
      den = Math.max(den, Math.abs(want[i]));
    }
    return den == 0 ? num : num / den;
  }

  public static double[] flatten(double[][] m) {
    int r = m.length;
    int c = r == 0 ? 0 : m[0].length;
    double[] out = new double[r * c];
    for (int i = 0; i < r; i++) {
      System.arraycopy(m[i], 0, out, i * c, c);
    }
    return out;
  }

  private StoreReference() {}


  /** Output file → SHA-256, as the run's manifest records them (every file but the manifest and _SUCCESS). */
  public static java.util.Map<String, String> dataHashes(java.nio.file.Path out) throws java.io.IOException {
    com.fasterxml.jackson.databind.JsonNode m = io.loraspace.jobs.output.Manifest.json()
        .readTree(out.resolve("manifest.json").toFile());
    java.util.Map<String, String> h = new java.util.TreeMap<>();
    for (com.fasterxml.jackson.databind.JsonNode f : m.get("outputs")) {
      h.put(f.get("path").asText(), f.get("sha256").asText());
    }
    return h;
  }
}
