package io.loraspace.jobs.bench;

import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.BlasLibrary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.netlib.util.intW;

/**
 * Benchmark (not a test): the BLAS/LAPACK libraries side by side in one run. netlib keeps one native library per
 * JVM, so each configuration runs in a child JVM, one after the other, on the same fixed-seed data:
 *
 * <ol>
 *   <li>bundled OpenBLAS, {@code OPENBLAS_CORETYPE} unset (the default launch: it detects the CPU);
 *   <li>bundled OpenBLAS with {@code OPENBLAS_CORETYPE=Haswell} (what an environment preset forces);
 *   <li>the system library ({@code libblas.so.3}/{@code liblapack.so.3} from the loader path; skipped when absent)
 *       with the core type the old launcher guessed from {@code /proc/cpuinfo}, and with none;
 *   <li>netlib's Java code.
 * </ol>
 * Two rounds (the second in reverse order), best per configuration. Each prints useful GFLOP/s of {@code dsyrk} (d = 1024, 16 384 rows, best of 3) and the time of {@code dsyevd} (all
 * eigenpairs, n = 2048, best of 2), with the library and core it ran; the parent prints ratios to the bundled
 * library. The bundled child also measures threads: two Java threads calling {@code dsyrk} at once (two concurrent
 * Spark tasks) with 1 and with 2 OpenBLAS threads per call, aggregate GFLOP/s.
 *
 * <p>Usage: {@code scripts/bench-blas.sh} (an extracted system OpenBLAS can be put on {@code LD_LIBRARY_PATH}).
 */
public final class BlasBenchmark {
  private BlasBenchmark() {}

  private static final int D = 1024;
  private static final int ROWS = 16_384;
  private static final int EIG_N = 2048;

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args[1]);
      return;
    }
    String cpuCore = guessedCoreType();
    List<String[]> configs = List.of(
        new String[] {"bundled", "bundled", ""},
        new String[] {"bundled, OPENBLAS_CORETYPE=Haswell", "bundled", "Haswell"},
        new String[] {"system, OPENBLAS_CORETYPE=" + cpuCore + " (old launcher's guess)", "system", cpuCore},
        new String[] {"system, OPENBLAS_CORETYPE unset", "system", ""},
        new String[] {"java", "java", ""});
    System.out.println("# BLAS libraries side by side: dsyrk d=" + D + " rows=" + ROWS + ", dsyevd n=" + EIG_N
        + "; cores=" + Runtime.getRuntime().availableProcessors() + ", load average at start "
        + String.format("%.2f", java.lang.management.ManagementFactory.getOperatingSystemMXBean()
            .getSystemLoadAverage()));
    // Two rounds, the second in reverse order, best per configuration (Java, 20-30x slower, runs once): a load
    // change on a shared machine then cannot favour one configuration by its place in the sequence.
    Map<String, Map<String, String>> results = new LinkedHashMap<>();
    for (String[] c : configs) {
      results.put(c[0], runChild(c[1], c[2]));
    }
    for (int i = configs.size() - 1; i >= 0; i--) {
      String[] c = configs.get(i);
      if (c[1].equals("java") || results.get(c[0]).containsKey("error")) {
        continue;
      }
      Map<String, String> again = runChild(c[1], c[2]);
      Map<String, String> best = results.get(c[0]);
      for (String key : List.of("dsyrk", "single2", "concurrent1", "concurrent2")) {
        if (again.containsKey(key) && best.containsKey(key)) {
          best.put(key, Double.toString(Math.max(Double.parseDouble(best.get(key)),
              Double.parseDouble(again.get(key)))));
        }
      }
      if (again.containsKey("dsyevd")) {
        best.put("dsyevd", Double.toString(Math.min(Double.parseDouble(best.get("dsyevd")),
            Double.parseDouble(again.get("dsyevd")))));
      }
    }
    for (String[] c : configs) {
      Map<String, String> r = results.get(c[0]);
      if (r.containsKey("error")) {
        System.out.printf("%-55s not available: %s%n", c[0], r.get("error"));
      } else {
        System.out.printf("%-55s dsyrk %6.1f GFLOP/s  dsyevd %7.2f s  [%s]%n", c[0],
            Double.parseDouble(r.get("dsyrk")), Double.parseDouble(r.get("dsyevd")), r.get("library"));
      }
    }
    Map<String, String> b = results.get("bundled");
    if (b.containsKey("error")) {
      return;
    }
    double syrk = Double.parseDouble(b.get("dsyrk"));
    double evd = Double.parseDouble(b.get("dsyevd"));
    for (Map.Entry<String, Map<String, String>> e : results.entrySet()) {
      if (e.getKey().equals("bundled") || e.getValue().containsKey("error")) {
        continue;
      }
      System.out.printf("bundled vs %-58s dsyrk %5.2fx, dsyevd %5.2fx (above 1: bundled faster)%n", e.getKey() + ":",
          syrk / Double.parseDouble(e.getValue().get("dsyrk")), Double.parseDouble(e.getValue().get("dsyevd")) / evd);
    }
    System.out.printf("threads (bundled): 2 concurrent dsyrk calls (d=%d, %d rows each): 1 thread per call %.1f GFLOP/s "
        + "in all, 2 threads per call %.1f GFLOP/s in all -> %.2fx; one call alone with 2 threads %.1f GFLOP/s%n", D,
        ROWS / 2, Double.parseDouble(b.get("concurrent1")), Double.parseDouble(b.get("concurrent2")),
        Double.parseDouble(b.get("concurrent1")) / Double.parseDouble(b.get("concurrent2")),
        Double.parseDouble(b.get("single2")));
  }

  private static String guessedCoreType() throws Exception {
    String flags = "";
    for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("flags")) {
        flags = line + " ";
        break;
      }
    }
    return flags.contains(" avx512f ") ? "SkylakeX" : flags.contains(" avx2 ") ? "Haswell" : "Prescott";
  }

  private static Map<String, String> runChild(String library, String coretype) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx6g", "-D" + BlasLibrary.PROPERTY + "=" + library, "-cp", System.getProperty("java.class.path"),
        BlasBenchmark.class.getName(), "--child", library));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (coretype.isEmpty()) {
      pb.environment().remove("OPENBLAS_CORETYPE");
    } else {
      pb.environment().put("OPENBLAS_CORETYPE", coretype);
    }
    pb.environment().remove("OPENBLAS_NUM_THREADS");
    Path log = java.nio.file.Files.createTempFile("blas-bench-", ".log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    Map<String, String> r = new LinkedHashMap<>();
    if (!p.waitFor(30, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      r.put("error", "timed out");
      return r;
    }
    String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
    java.nio.file.Files.deleteIfExists(log);
    for (String line : out.split("\n")) {
      if (line.startsWith("RESULT ")) {
        String[] kv = line.substring(7).split(" ", 2);
        r.put(kv[0], kv[1]);
      }
    }
    if (p.exitValue() != 0 || !r.containsKey("dsyrk")) {
      String last = out.lines().filter(l -> l.contains("Exception")).findFirst().orElse(out.strip());
      r.put("error", last.length() > 300 ? last.substring(0, 300) : last);
    }
    return r;
  }

  private static void child(String library) throws Exception {
    BlasLibrary lib = Blas.library();
    System.out.println("RESULT library " + lib.source().name().toLowerCase(java.util.Locale.ROOT)
        + (lib.source() == BlasLibrary.Source.BUNDLED ? " core " + lib.core() + ", " + lib.threads() + " threads"
        : lib.source() == BlasLibrary.Source.SYSTEM ? " " + lib.location() : ""));
    double[] x = gaussian(D * ROWS, 1);
    double[] c = new double[D * D];
    System.out.println("RESULT dsyrk " + syrkRate(x, ROWS, c, 3));
    double[] a = symmetric(EIG_N, 2);
    double best = Double.MAX_VALUE;
    for (int rep = 0; rep < 2; rep++) {
      best = Math.min(best, dsyevdSeconds(a, EIG_N));
    }
    System.out.println("RESULT dsyevd " + best);
    if (lib.source() == BlasLibrary.Source.BUNDLED) {
      lib.setThreads(2);
      System.out.println("RESULT single2 " + syrkRate(x, ROWS / 2, c, 3));
      for (int threads : new int[] {1, 2}) {
        lib.setThreads(threads);
        System.out.println("RESULT concurrent" + threads + " " + concurrentRate(x, 2));
      }
    }
  }

  /** Useful GFLOP/s of dsyrk on the first {@code rows} rows of x, best of {@code reps} after a warm-up. */
  private static double syrkRate(double[] x, int rows, double[] c, int reps) {
    Blas.blas().dsyrk("U", "N", D, rows, 1.0, x, D, 0.0, c, D);
    double best = Double.MAX_VALUE;
    for (int r = 0; r < reps; r++) {
      long t0 = System.nanoTime();
      Blas.blas().dsyrk("U", "N", D, rows, 1.0, x, D, 0.0, c, D);
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
    }
    return (double) D * (D + 1) * rows / best / 1e9;
  }

  /** Aggregate useful GFLOP/s of {@code callers} threads each running dsyrk on ROWS/2 rows at the same time. */
  private static double concurrentRate(double[] x, int callers) throws Exception {
    double best = Double.MAX_VALUE;
    for (int rep = 0; rep < 3; rep++) {
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < callers; t++) {
        double[] c = new double[D * D];
        Thread th = new Thread(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          Blas.blas().dsyrk("U", "N", D, ROWS / 2, 1.0, x, D, 0.0, c, D);
        });
        th.start();
        ts.add(th);
      }
      long t0 = System.nanoTime();
      start.countDown();
      for (Thread th : ts) {
        th.join();
      }
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
    }
    return (double) callers * D * (D + 1) * (ROWS / 2) / best / 1e9;
  }

  private static double dsyevdSeconds(double[] a, int n) {
    double[] work = a.clone();
    double[] w = new double[n];
    intW info = new intW(0);
    double[] wq = new double[1];
    int[] iwq = new int[1];
    Blas.lapack().dsyevd("V", "U", n, work, n, w, wq, -1, iwq, -1, info);
    double[] wk = new double[Math.max((int) wq[0], 1 + 6 * n + 2 * n * n)];
    int[] iwk = new int[Math.max(iwq[0], 3 + 5 * n)];
    long t0 = System.nanoTime();
    Blas.lapack().dsyevd("V", "U", n, work, n, w, wk, wk.length, iwk, iwk.length, info);
    double secs = (System.nanoTime() - t0) / 1e9;
    if (info.val != 0) {
      throw new IllegalStateException("dsyevd info = " + info.val);
    }
    return secs;
  }

  private static double[] gaussian(int len, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] v = new double[len];
    for (int i = 0; i < len; i++) {
      v[i] = rnd.nextDouble() - 0.5;
    }
    return v;
  }

  private static double[] symmetric(int n, long seed) {
    double[] g = gaussian(n * n, seed);
    double[] a = new double[n * n];
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < n; i++) {
        a[i + j * n] = g[i + j * n] + g[j + i * n];
      }
    }
    return a;
  }
}
