package io.loraspace.jobs.bench;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.ActivationBlockDecoder;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.stats.TokenGramAccumulator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.mllib.linalg.distributed.RowMatrix;
import org.apache.spark.sql.SparkSession;

/**
 * Statistics-accumulation benchmark (BENCHMARKS.md): token-Gram update throughput against raw native {@code dsyrk} on
 * the same blocks in the same JVM, and time against Spark MLlib {@code RowMatrix.computeGramianMatrix} /
 * {@code computeCovariance} on the same vectors in local Spark. Prints one line per figure. Not a test.
 *
 * <pre>
 * scripts/bench-gram.sh [--dims 1024,4096] [--block-rows 512] [--reps 3] [--mllib true]
 * </pre>
 */
public final class GramBenchmark {
  private GramBenchmark() {}

  private static final class Options {
    int[] dims = {1024, 4096};
    int blockRows = 512;
    int reps = 3;
    boolean mllib = true;

    static Options parse(String[] args) {
      Options o = new Options();
      if (args.length % 2 != 0) {
        throw new ArgumentException("Arguments must be --key value pairs, got " + Arrays.toString(args));
      }
      for (int i = 0; i < args.length; i += 2) {
        String key = args[i];
        String value = args[i + 1];
        try {
          switch (key) {
            case "--dims" -> o.dims = Arrays.stream(value.split(",")).mapToInt(s -> Integer.parseInt(s.trim()))
                .toArray();
            case "--block-rows" -> o.blockRows = Integer.parseInt(value);
            case "--reps" -> o.reps = Integer.parseInt(value);
            case "--mllib" -> {
              if (!value.equals("true") && !value.equals("false")) {
                throw new NumberFormatException();
              }
              o.mllib = Boolean.parseBoolean(value);
            }
            default -> throw new ArgumentException("Unknown option '" + key + "' (known: --dims, --block-rows, "
                + "--reps, --mllib)");
          }
        } catch (NumberFormatException e) {
          throw new ArgumentException("Option '" + key + "' has a bad value '" + value + "'");
        }
      }
      if (o.blockRows < 1 || o.reps < 1 || Arrays.stream(o.dims).anyMatch(d -> d < 1)) {
        throw new ArgumentException("Options --dims, --block-rows and --reps must be >= 1");
      }
      return o;
    }
  }

  public static void main(String[] args) throws IOException {
    Options opt = Options.parse(args);
    System.out.println("gram-bench: " + Blas.describe() + ", cores=" + Runtime.getRuntime().availableProcessors()
        + ", load average at start " + loadAverage() + " (shared machine: compare ratios from this run only)");
    SparkSession spark = null;
    try {
      for (int d : opt.dims) {
        // ~2^34 useful flops per repetition, at least 4 blocks.
        int blocks = Math.max(4, (int) Math.ceil((double) (1L << 34) / ((double) d * d) / opt.blockRows));
        int rows = blocks * opt.blockRows;
        double[] data = gaussianRows(rows, d, 42 + d);
        byte[] f32 = toF32Bytes(data);
        double rawSecondsPerRow = blasComparison(opt, d, blocks, data, f32) / rows;
        if (opt.mllib) {
          if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("gram-bench")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
          }
          mllibComparison(opt, d, data, spark, rawSecondsPerRow);
        }
      }
    } finally {
      if (spark != null) {
        spark.stop();
      }
    }
    System.out.println("gram-bench: load average at end " + loadAverage());
  }

  /**
   * (a): accumulator update (and the F32 bytes → decode → update path) against raw dsyrk on the same blocks.
   *
   * @return the best raw dsyrk time in seconds for all blocks
   */
  private static double blasComparison(Options opt, int d, int blocks, double[] data, byte[] f32) {
    int b = opt.blockRows;
    int blockValues = b * d;
    int blockBytes = blockValues * 4;
    double usefulFlops = (double) blocks * b * d * (d + 1.0);
    double[] raw = new double[d * d];
    double[] scratch = new double[blockValues];
    double bestRaw = Double.MAX_VALUE;
    double bestAcc = Double.MAX_VALUE;
    double bestDecode = Double.MAX_VALUE;
    double checksum = 0;
    // One warm-up repetition (JIT, page faults), then `reps` interleaved measured repetitions; best of each.
    for (int rep = 0; rep <= opt.reps; rep++) {
      Arrays.fill(raw, 0.0);
      long t0 = System.nanoTime();
      for (int k = 0; k < blocks; k++) {
        Blas.blas().dsyrk("U", "N", d, b, 1.0, data, k * blockValues, d, 1.0, raw, 0, d);
      }
      long t1 = System.nanoTime();
      TokenGramAccumulator acc = new TokenGramAccumulator(d);
      long t2 = System.nanoTime();
      for (int k = 0; k < blocks; k++) {
        acc.update(data, k * blockValues, b);
      }
      long t3 = System.nanoTime();
      TokenGramAccumulator fromBytes = new TokenGramAccumulator(d);
      long t4 = System.nanoTime();
      for (int k = 0; k < blocks; k++) {
        int kept = ActivationBlockDecoder.decode(f32, k * blockBytes, blockBytes, Dtype.F32, b, d, scratch, 0,
            NonFinitePolicy.FAIL);
        fromBytes.update(scratch, 0, kept);
      }
      long t5 = System.nanoTime();
      checksum += raw[d * d - 1] + acc.tokenCount() + fromBytes.tokenCount();
      if (rep > 0) {
        bestRaw = Math.min(bestRaw, (t1 - t0) * 1e-9);
        bestAcc = Math.min(bestAcc, (t3 - t2) * 1e-9);
        bestDecode = Math.min(bestDecode, (t5 - t4) * 1e-9);
      }
    }
    String head = String.format("d=%d rows=%d (%d blocks of %d), best of %d:", d, blocks * b, blocks, b, opt.reps);
    System.out.printf("%s raw native dsyrk %.1f GFLOP/s useful (%.3f s)%n", head, usefulFlops / bestRaw * 1e-9,
        bestRaw);
    System.out.printf("%s TokenGramAccumulator.update %.1f GFLOP/s useful (%.3f s) = %.3f of raw dsyrk%n", head,
        usefulFlops / bestAcc * 1e-9, bestAcc, bestRaw / bestAcc);
    System.out.printf("%s F32 bytes -> ActivationBlockDecoder -> update %.1f GFLOP/s useful (%.3f s) = %.3f of raw "
        + "dsyrk%n", head, usefulFlops / bestDecode * 1e-9, bestDecode, bestRaw / bestDecode);
    if (Double.isNaN(checksum)) {
      System.out.println("checksum NaN");
    }
    return bestRaw;
  }

  /**
   * (b): on the first n and the first 2n rows (MLlib is too slow for the full data at large d), ours first (before any
   * Spark job at this d), including reading the full symmetric Gram (and forming the covariance for the covariance
   * line), best of {@code reps}; then MLlib RowMatrix on the same vectors after an untimed warm-up, best of 2. Times
   * are end to end for each side, fixed costs included; the lines compare time per row on identical inputs.
   */
  private static void mllibComparison(
      Options opt, int d, double[] data, SparkSession spark, double rawSecondsPerRow) {
    int n = Math.max(64, (int) ((1L << 32) / ((long) d * d)));
    int totalRows = data.length / d;
    if (2 * n > totalRows) {
      n = totalRows / 2;
    }
    double[] oursGram = {Double.MAX_VALUE, Double.MAX_VALUE};
    double[] oursCov = {Double.MAX_VALUE, Double.MAX_VALUE};
    for (int size = 0; size < 2; size++) {
      int rows = n << size;
      for (int rep = 0; rep <= opt.reps; rep++) {
        System.gc();
        long t0 = System.nanoTime();
        TokenGramAccumulator acc = accumulate(data, rows, d, opt.blockRows);
        DenseMatrix gram = acc.gram();
        long t1 = System.nanoTime();
        TokenGramAccumulator acc2 = accumulate(data, rows, d, opt.blockRows);
        DenseMatrix cov = covariance(acc2);
        long t2 = System.nanoTime();
        if (gram.get(0, 0) < 0 || Double.isNaN(cov.get(0, 0))) {
          System.out.println("unexpected result");
        }
        if (rep > 0) {
          oursGram[size] = Math.min(oursGram[size], (t1 - t0) * 1e-9);
          oursCov[size] = Math.min(oursCov[size], (t2 - t1) * 1e-9);
        }
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    double[] mllibGram = {Double.MAX_VALUE, Double.MAX_VALUE};
    double[] mllibCov = {Double.MAX_VALUE, Double.MAX_VALUE};
    // size -1 is an untimed warm-up on n/2 rows (JIT, Spark's first jobs at this d).
    for (int size = -1; size < 2; size++) {
      int rows = size < 0 ? Math.max(1, n / 2) : n << size;
      List<Vector> vectors = new ArrayList<>(rows);
      for (int t = 0; t < rows; t++) {
        vectors.add(Vectors.dense(Arrays.copyOfRange(data, t * d, (t + 1) * d)));
      }
      JavaRDD<Vector> rdd = jsc.parallelize(vectors, 2).cache();
      rdd.count();
      RowMatrix matrix = new RowMatrix(rdd.rdd(), rows, d);
      for (int rep = 0; rep < (size < 0 ? 1 : 2); rep++) {
        System.gc();
        long t0 = System.nanoTime();
        matrix.computeGramianMatrix();
        long t1 = System.nanoTime();
        matrix.computeCovariance();
        long t2 = System.nanoTime();
        if (size >= 0) {
          mllibGram[size] = Math.min(mllibGram[size], (t1 - t0) * 1e-9);
          mllibCov[size] = Math.min(mllibCov[size], (t2 - t1) * 1e-9);
        }
      }
      rdd.unpersist(true);
    }
    for (int size = 0; size < 2; size++) {
      report("computeGramianMatrix", d, n << size, mllibGram[size], oursGram[size], opt.reps, rawSecondsPerRow);
      report("computeCovariance", d, n << size, mllibCov[size], oursCov[size], opt.reps, rawSecondsPerRow);
    }
  }

  private static void report(
      String what, int d, int rows, double mllib, double ours, int reps, double rawSecondsPerRow) {
    System.out.printf("d=%d rows=%d (same vectors, end to end): MLlib RowMatrix.%s local[2] %.2f s (%.0f us/row, "
        + "best of 2) vs TokenGramAccumulator %.3f s (%.1f us/row, best of %d) -> %.1fx faster per row (bound set by "
        + "streaming raw dsyrk from (a), %.1f us/row: %.1fx); MLlib runs on fewer rows than (a) because it is slow "
        + "at large d%n", d, rows, what, mllib, mllib / rows * 1e6, ours, ours / rows * 1e6, reps, mllib / ours,
        rawSecondsPerRow * 1e6, mllib / rows / rawSecondsPerRow);
  }

  private static TokenGramAccumulator accumulate(double[] data, int rows, int d, int blockRows) {
    TokenGramAccumulator acc = new TokenGramAccumulator(d);
    for (int at = 0; at < rows; at += blockRows) {
      acc.update(data, at * d, Math.min(blockRows, rows - at));
    }
    return acc;
  }

  /** Sample covariance (G − n μ μᵀ) / (n − 1), as MLlib computes it. */
  private static DenseMatrix covariance(TokenGramAccumulator acc) {
    DenseMatrix g = acc.gram();
    double[] mean = acc.tokenSum();
    double n = acc.tokenCount();
    int d = acc.dim();
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    double scale = 1.0 / (n - 1);
    double[] a = g.data();
    for (int j = 0; j < d; j++) {
      double nmj = n * mean[j];
      int col = j * d;
      for (int i = 0; i < d; i++) {
        a[col + i] = (a[col + i] - nmj * mean[i]) * scale;
      }
    }
    return g;
  }

  private static double[] gaussianRows(int rows, int d, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] x = new double[rows * d];
    for (int i = 0; i < x.length; i++) {
      // Sum of three uniforms: cheap, bell-shaped, mean 0; plus a per-dimension offset.
      x[i] = rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5 + 0.01 * (i % d % 7);
    }
    return x;
  }

  private static byte[] toF32Bytes(double[] x) {
    ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : x) {
      b.putFloat((float) v);
    }
    return b.array();
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
