package io.loraspace.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.ActivationBlockDecoder;
import io.loraspace.common.io.Dtype;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.mllib.linalg.distributed.RowMatrix;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Benchmark (not a test) of the stats job end to end, in one run on the same machine and data:
 *
 * <ol>
 *   <li>bytes/s of {@code stats} (Parquet → finished store) against a plain Spark scan that reads the same Parquet,
 *       decodes the same {@code input} column and sums it (the I/O + decode ceiling);
 *   <li>time growth when the input doubles (twice the samples);
 *   <li>{@code stats} restricted to one site against MLlib {@code RowMatrix.computeCovariance} fed the same vectors
 *       (read from the same Parquet and decoded by the same code, then handed to MLlib).
 * </ol>
 *
 * Every timing starts before a fresh SparkSession is created and ends after the result is in: the stats runs go
 * through the CLI, which starts and stops its own session, so the references pay the same start-up.
 *
 * <p>Usage: {@code scripts/bench-stats.sh [workDir] [dim] [samples]} (defaults: a temp dir, 256, 400).
 */
public final class StatsBenchmark {
  private StatsBenchmark() {}

  private static void cli(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    if (rc != 0) {
      throw new IllegalStateException("loraspace " + args[0] + " failed: " + err.toString(StandardCharsets.UTF_8));
    }
  }

  private static JsonNode manifest(Path out) throws Exception {
    return Manifest.json().readTree(out.resolve("manifest.json").toFile());
  }

  private static double statsSeconds(Path in, Path out, String... extra) throws Exception {
    List<String> a = new ArrayList<>(List.of("stats", "--set", "input=" + in, "--set", "out=" + out, "--set",
        "overwrite=true", "--set", "checksums=none", "--set", "spark.master=local[2]", "--set",
        "spark.driver.memory=6g"));
    for (String e : extra) {
      a.add("--set");
      a.add(e);
    }
    long t0 = System.nanoTime();
    cli(a.toArray(new String[0]));
    return (System.nanoTime() - t0) / 1e9;
  }

  private static SparkSession session() {
    return SparkSession.builder().master("local[2]").appName("stats-bench-reference")
        .config("spark.ui.enabled", "false").getOrCreate();
  }

  /** Decodes the input block of a (tokens, dim, dtype, input) row into a new row-major array. */
  private static double[] decodeRow(Row r) {
    int t = r.getInt(0);
    int d = r.getInt(1);
    byte[] b = (byte[]) r.get(3);
    double[] buf = new double[t * d];
    ActivationBlockDecoder.decode(b, 0, b.length, Dtype.parse(r.getString(2), "bench"), t, d, buf, 0,
        ActivationBlockDecoder.NonFinitePolicy.FAIL);
    return buf;
  }

  /** Plain scan: read the input column, decode every block, sum all values. Returns seconds. */
  private static double scanSeconds(Path in, long[] bytesOut) {
    // Timed from session creation, like the stats run (which starts and stops its own session).
    long t0 = System.nanoTime();
    SparkSession spark = session();
    try {
      Dataset<Row> df = spark.read().parquet(in.resolve("part-*.parquet").toString()).select("tokens", "dim", "dtype", "input");
      JavaRDD<double[]> sums = df.javaRDD().map(r -> {
        double[] buf = decodeRow(r);
        double s = 0;
        for (double v : buf) {
          s += v;
        }
        return new double[] {s, ((byte[]) r.get(3)).length};
      });
      double[] total = sums.reduce((x, y) -> new double[] {x[0] + y[0], x[1] + y[1]});
      bytesOut[0] = (long) total[1];
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      spark.stop();
    }
  }

  /** MLlib on one site: decode the same rows into Vectors, then RowMatrix.computeCovariance. Returns seconds. */
  private static double mllibSeconds(Path in, String site) {
    long t0 = System.nanoTime();
    SparkSession spark = session();
    try {
      Dataset<Row> df = spark.read().parquet(in.resolve("part-*.parquet").toString()).where("site = '" + site + "'")
          .select("tokens", "dim", "dtype", "input");
      JavaRDD<Vector> rows = df.javaRDD().flatMap(r -> {
        int t = r.getInt(0);
        int d = r.getInt(1);
        double[] buf = decodeRow(r);
        List<Vector> out = new ArrayList<>(t);
        for (int i = 0; i < t; i++) {
          out.add(Vectors.dense(java.util.Arrays.copyOfRange(buf, i * d, (i + 1) * d)));
        }
        Iterator<Vector> it = out.iterator();
        return it;
      });
      new RowMatrix(rows.rdd()).computeCovariance();
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      spark.stop();
    }
  }

  public static void main(String[] args) throws Exception {
    Path work = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("loraspace-bench-stats");
    int dim = args.length > 1 ? Integer.parseInt(args[1]) : 256;
    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 400;
    System.out.println("# stats end to end, d = " + dim + ", " + samples + " samples (x2 for the doubling), work dir "
        + work);
    Path small = work.resolve("corpus-1x");
    Path large = work.resolve("corpus-2x");
    for (Object[] c : new Object[][] {{small, samples}, {large, 2 * samples}}) {
      cli("synth-corpus", "--set", "out=" + c[0], "--set", "overwrite=true", "--set", "checksums=none", "--set",
          "datasets=plus", "--set", "samples=" + c[1], "--set", "layers=1", "--set", "hidden=" + dim, "--set",
          "kv-dim=8", "--set", "intermediate=8", "--set", "min-tokens=64", "--set", "max-tokens=192", "--set",
          "block-tokens=64", "--set", "files=8", "--set", "spark.master=local[2]");
    }
    // Warm-up (JIT, Spark start-up paths) on the small input, untimed.
    statsSeconds(small, work.resolve("warm"));
    long[] bytes = new long[1];
    double scan = scanSeconds(small, bytes);
    double stats = statsSeconds(small, work.resolve("stats-1x"));
    double stats2 = statsSeconds(large, work.resolve("stats-2x"));
    JsonNode m1 = manifest(work.resolve("stats-1x"));
    long decoded = m1.path("counts").path("bytesDecoded").asLong();
    System.out.printf("plain Spark scan (read + decode + sum input): %.2f s, %.1f MiB/s of block bytes%n", scan,
        bytes[0] / 1048576.0 / scan);
    System.out.printf("stats end to end (scan, pass, merge, write store): %.2f s, %.1f MiB/s -> %.2f of the scan%n",
        stats, decoded / 1048576.0 / stats, (decoded / stats) / (bytes[0] / scan));
    System.out.printf("stats on 2x input: %.2f s -> time grows %.2fx when the input doubles%n", stats2,
        stats2 / stats);
    String site = "model.layers.0.self_attn.in";
    double ours = statsSeconds(small, work.resolve("stats-site"), "sites=" + java.util.regex.Pattern.quote(site),
        "gradients=off");
    double mllib = mllibSeconds(small, site);
    System.out.printf("one site (d = %d): stats %.2f s vs MLlib RowMatrix.computeCovariance on the same vectors "
        + "%.2f s -> %.1fx faster%n", dim, ours, mllib, mllib / ours);
  }
}
