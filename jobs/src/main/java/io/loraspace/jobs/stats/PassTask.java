package io.loraspace.jobs.stats;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.ActivationBlockDecoder;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.common.io.activations.ActivationRow;
import io.loraspace.common.stats.AccumulatorFormat;
import io.loraspace.common.stats.CrossProductAccumulator;
import io.loraspace.common.stats.DiagonalSecondMomentAccumulator;
import io.loraspace.common.stats.TokenGramAccumulator;
import io.loraspace.jobs.corpus.ActivationParquetReader;
import io.loraspace.jobs.spark.HadoopConf;
import io.loraspace.jobs.spark.TaskInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The map side of one statistics pass, run by a Spark task over whole files: decodes the blocks of the pass's keys
 * and feeds blocked BLAS updates into per-key accumulators held by this task (their total size is what
 * {@code max-task-memory} bounds); per-sample partial sums x̂ are kept per (dataset, site, sample) seen in the task.
 * At the end it emits (key, bytes) records: serialized accumulators, sample partials, and markers of samples with
 * gradients. Nothing d×d ever reaches the driver.
 */
final class PassTask implements PassMapper {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PassTask.class);

  private final HadoopConf conf;
  private final Set<String> siteKeys;
  private final Set<String> moduleKeys;
  private final NonFinitePolicy policy;
  private final int pass;
  private final long logIntervalMillis;

  PassTask(HadoopConf conf, Set<String> siteKeys, Set<String> moduleKeys, NonFinitePolicy policy, int pass,
      long logIntervalMillis) {
    this.conf = conf;
    this.siteKeys = new LinkedHashSet<>(siteKeys);
    this.moduleKeys = new LinkedHashSet<>(moduleKeys);
    this.policy = policy;
    this.pass = pass;
    this.logIntervalMillis = logIntervalMillis;
  }

  /** Per-task running state. */
  private static final class State {
    final Map<String, TokenGramAccumulator> tokens = new LinkedHashMap<>();
    final Map<String, CrossProductAccumulator> cross = new LinkedHashMap<>();
    final Map<String, DiagonalSecondMomentAccumulator> diag = new LinkedHashMap<>();
    final Map<String, double[]> sampleSums = new HashMap<>();
    final Map<String, long[]> sampleTokens = new HashMap<>();
    final Set<String> gradSamples = new LinkedHashSet<>();
    double[] x = new double[0];
    double[] g = new double[0];
    double[] rowX = new double[0];
    long rows;
    long bytes;
    long skippedTokens;
  }

  /**
   * Fault-injection hook of the executor-loss test: with the executor JVM property {@value #TEST_DELAY_PROPERTY}
   * (milliseconds), each pass task sleeps that long first, so that an executor can be killed mid-pass.
   */
  static final String TEST_DELAY_PROPERTY = "loraspace.test.pass-task-delay-ms";

  @Override
  public Iterator<Tuple2<String, byte[]>> run(Iterator<String> files) throws IOException {
    long delay = Long.getLong(TEST_DELAY_PROPERTY, 0L);
    if (delay > 0) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("Interrupted", e);
      }
    }
    State st = new State();
    long t0 = System.currentTimeMillis();
    long lastLog = t0;
    int fileCount = 0;
    while (files.hasNext()) {
      String file = files.next();
      fileCount++;
      long read0 = TaskInput.threadBytesRead();
      try (ActivationParquetReader r = ActivationParquetReader.open(conf.get(), new Path(file), true,
          !moduleKeys.isEmpty()).payloadsOnlyFor(this::wants)) {
        ActivationRow row;
        while ((row = r.next()) != null) {
          process(row, file + " row " + r.rowIndex(), st);
          long now = System.currentTimeMillis();
          if (now - lastLog >= logIntervalMillis) {
            lastLog = now;
            double secs = (now - t0) / 1000.0;
            LOG.info(String.format("stats pass %d: %d files, %d rows, %.1f MiB decoded (%.1f MiB/s)", pass,
                fileCount, st.rows, st.bytes / 1048576.0, st.bytes / 1048576.0 / secs));
          }
        }
      } finally {
        TaskInput.reportSince(read0);
      }
    }
    return emit(st).iterator();
  }

  /** Whether this task reads a row's payloads: its site, or a module reading the site, is one of the task's keys. */
  private boolean wants(String dataset, String site, List<String> modules) {
    if (siteKeys.contains(StatKeys.site(dataset, site))) {
      return true;
    }
    for (String m : modules) {
      if (moduleKeys.contains(StatKeys.site(dataset, m))) {
        return true;
      }
    }
    return false;
  }

  private static double[] ensure(double[] buf, long n) {
    if (n > Integer.MAX_VALUE - 8) {
      throw new FormatException("Block of " + n + " values is too large to decode at once");
    }
    return buf.length >= n ? buf : new double[(int) Math.max(n, buf.length * 2L)];
  }

  private void process(ActivationRow row, String where, State st) {
    String siteKey = StatKeys.site(row.dataset(), row.site());
    boolean wantSite = siteKeys.contains(siteKey);
    List<ActivationRow.GradBlock> grads = new ArrayList<>();
    for (ActivationRow.GradBlock gb : row.grads()) {
      if (moduleKeys.contains(StatKeys.site(row.dataset(), gb.module()))) {
        grads.add(gb);
      }
    }
    if (!wantSite && grads.isEmpty()) {
      return;
    }
    st.rows++;
    int t = row.tokens();
    int d = row.dim();
    st.bytes += row.input().length;
    st.x = ensure(st.x, (long) t * d);
    String at = where + " (dataset '" + row.dataset() + "', sample " + row.sample() + ", site '" + row.site() + "')";
    int kept;
    if (grads.isEmpty() || policy == NonFinitePolicy.FAIL) {
      try {
        kept = ActivationBlockDecoder.decode(row.input(), 0, row.input().length, row.dtype(), t, d, st.x, 0, policy);
      } catch (FormatException e) {
        throw new FormatException(at + ": input " + e.getMessage(), e);
      }
      st.skippedTokens += t - kept;
    } else {
      kept = decodePairedSkipping(row, grads, st);
    }
    if (wantSite) {
      TokenGramAccumulator acc = st.tokens.computeIfAbsent(siteKey, k -> new TokenGramAccumulator(d));
      acc.update(st.x, 0, kept);
      String sk = StatKeys.key(StatKeys.SAMPLE, row.dataset(), row.site(), Long.toString(row.sample()));
      double[] sum = st.sampleSums.computeIfAbsent(sk, k -> new double[d]);
      for (int i = 0; i < kept; i++) {
        int base = i * d;
        for (int j = 0; j < d; j++) {
          sum[j] += st.x[base + j];
        }
      }
      st.sampleTokens.computeIfAbsent(sk, k -> new long[1])[0] += kept;
    }
    for (int m = 0; m < grads.size(); m++) {
      ActivationRow.GradBlock gb = grads.get(m);
      String mk = StatKeys.site(row.dataset(), gb.module());
      int out = gb.dim();
      st.bytes += gb.data().length;
      if (policy == NonFinitePolicy.FAIL) {
        st.g = ensure(st.g, (long) t * out);
        try {
          ActivationBlockDecoder.decode(gb.data(), 0, gb.data().length, row.dtype(), t, out, st.g, 0, policy);
        } catch (FormatException e) {
          throw new FormatException(at + ": gradient of '" + gb.module() + "' " + e.getMessage(), e);
        }
      } else {
        decodeKeptRows(row, gb, st);
      }
      st.cross.computeIfAbsent(mk, k -> new CrossProductAccumulator(out, d)).update(st.g, 0, st.x, 0, kept);
      st.diag.computeIfAbsent(mk, k -> new DiagonalSecondMomentAccumulator(out)).update(st.g, 0, kept);
      st.gradSamples.add(StatKeys.key(StatKeys.GRAD_SAMPLE, row.dataset(), gb.module(), Long.toString(row.sample())));
    }
  }

  /** Kept-row mask of the last paired decode (SKIP with gradients): a token is kept only if input and all grads are finite. */
  private transient boolean[] keptMask;

  private int decodePairedSkipping(ActivationRow row, List<ActivationRow.GradBlock> grads, State st) {
    int t = row.tokens();
    int d = row.dim();
    int size = row.dtype().size();
    if (keptMask == null || keptMask.length < t) {
      keptMask = new boolean[t];
    }
    double[] probe = new double[0];
    int kept = 0;
    for (int i = 0; i < t; i++) {
      boolean ok = ActivationBlockDecoder.decode(row.input(), i * d * size, d * size, row.dtype(), 1, d, st.x,
          kept * d, NonFinitePolicy.SKIP) == 1;
      for (ActivationRow.GradBlock gb : grads) {
        if (!ok) {
          break;
        }
        probe = ensure(probe, gb.dim());
        ok = ActivationBlockDecoder.decode(gb.data(), i * gb.dim() * size, gb.dim() * size, row.dtype(), 1, gb.dim(),
            probe, 0, NonFinitePolicy.SKIP) == 1;
      }
      keptMask[i] = ok;
      if (ok) {
        kept++;
      }
    }
    st.skippedTokens += t - kept;
    return kept;
  }

  private void decodeKeptRows(ActivationRow row, ActivationRow.GradBlock gb, State st) {
    int t = row.tokens();
    int out = gb.dim();
    int size = row.dtype().size();
    st.g = ensure(st.g, (long) t * out);
    int k = 0;
    for (int i = 0; i < t; i++) {
      if (keptMask[i]) {
        ActivationBlockDecoder.decode(gb.data(), i * out * size, out * size, row.dtype(), 1, out, st.g, k * out,
            NonFinitePolicy.FAIL);
        k++;
      }
    }
  }

  private List<Tuple2<String, byte[]>> emit(State st) {
    List<Tuple2<String, byte[]>> out = new ArrayList<>();
    for (Map.Entry<String, TokenGramAccumulator> e : st.tokens.entrySet()) {
      String[] p = e.getKey().split(String.valueOf(StatKeys.SEP), -1);
      out.add(new Tuple2<>(StatKeys.key(StatKeys.TOKEN, p[0], p[1]),
          tagged(StatKeys.TOKEN, AccumulatorFormat.write(e.getValue()))));
    }
    for (Map.Entry<String, CrossProductAccumulator> e : st.cross.entrySet()) {
      String[] p = e.getKey().split(String.valueOf(StatKeys.SEP), -1);
      out.add(new Tuple2<>(StatKeys.key(StatKeys.CROSS, p[0], p[1]),
          tagged(StatKeys.CROSS, AccumulatorFormat.write(e.getValue()))));
    }
    for (Map.Entry<String, DiagonalSecondMomentAccumulator> e : st.diag.entrySet()) {
      String[] p = e.getKey().split(String.valueOf(StatKeys.SEP), -1);
      out.add(new Tuple2<>(StatKeys.key(StatKeys.DIAG, p[0], p[1]),
          tagged(StatKeys.DIAG, AccumulatorFormat.write(e.getValue()))));
    }
    for (Map.Entry<String, double[]> e : st.sampleSums.entrySet()) {
      out.add(new Tuple2<>(e.getKey(), tagged(StatKeys.SAMPLE, encodePartial(st.sampleTokens.get(e.getKey())[0],
          e.getValue()))));
    }
    for (String g : st.gradSamples) {
      out.add(new Tuple2<>(g, tagged(StatKeys.GRAD_SAMPLE, new byte[0])));
    }
    out.add(new Tuple2<>(StatKeys.key(StatKeys.COUNTERS), tagged(StatKeys.COUNTERS, encodeCounters(st.rows, st.bytes,
        st.skippedTokens))));
    return out;
  }

  /** A record of the shuffle: the kind letter as first byte, then the payload. */
  static byte[] tagged(char kind, byte[] payload) {
    return tagged(kind, payload, 0, payload.length);
  }

  /** {@link #tagged(char, byte[])} of {@code payload[from, from + length)}, copied once. */
  static byte[] tagged(char kind, byte[] payload, int from, int length) {
    byte[] out = new byte[length + 1];
    out[0] = (byte) kind;
    System.arraycopy(payload, from, out, 1, length);
    return out;
  }

  static long[] decodeCounters(byte[] c) {
    if (c == null) {
      return new long[3];
    }
    ByteBuffer b = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
    return new long[] {b.getLong(0), b.getLong(8), b.getLong(16)};
  }

  /** A sample partial: token count, then d doubles, little-endian. */
  static byte[] encodePartial(long tokens, double[] sum) {
    ByteBuffer b = ByteBuffer.allocate(8 + 8 * sum.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(tokens);
    for (double v : sum) {
      b.putDouble(v);
    }
    return b.array();
  }

  static byte[] addPartials(byte[] a, byte[] b) {
    if (a.length != b.length) {
      throw new FormatException("Sample partial sums of different dims (" + (a.length / 8 - 1) + " and "
          + (b.length / 8 - 1) + ") for one sample");
    }
    ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer out = ByteBuffer.allocate(a.length).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(x.getLong(0) + y.getLong(0));
    for (int i = 8; i < a.length; i += 8) {
      out.putDouble(x.getDouble(i) + y.getDouble(i));
    }
    return out.array();
  }

  static byte[] encodeCounters(long rows, long bytes, long skipped) {
    return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(rows).putLong(bytes).putLong(skipped).array();
  }

  static byte[] addCounters(byte[] a, byte[] b) {
    ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    return encodeCounters(x.getLong(0) + y.getLong(0), x.getLong(8) + y.getLong(8), x.getLong(16) + y.getLong(16));
  }
}
