package io.loraspace.jobs.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.BlasLibrary;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.output.Manifest;
import java.io.Serializable;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the environment the jobs will run in, on the driver and in every task: JVM, process, host, and the
 * BLAS/LAPACK library ({@link BlasLibrary}: bundled, system or Java; file, version, the kernel set it runs, whether
 * {@code OPENBLAS_CORETYPE} forced it, threads per call) with measured dgemm and dsyrk rates at those threads. Writes
 * {@code report.json}. Operators run it once per cluster (a Java fallback or a forced old core costs 2-10x on every
 * job).
 */
public final class DoctorJob implements Job {
  private static final Logger LOG = LoggerFactory.getLogger(DoctorJob.class);

  @Override
  public String name() {
    return "doctor";
  }

  @Override
  public String summary() {
    return "check driver and executors: JVMs, BLAS/LAPACK library, version, core, threads, dgemm/dsyrk GFLOP/s";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .intOption("tasks", 4, 1, 100_000, "Probe tasks to spread over the executors")
        .intOption("gemm-size", 512, 1, 8192, "Size n of the n×n dgemm and of the n×n dsyrk (2n rows) timed on each "
            + "JVM")
        .build();
  }

  /** What one JVM reports. */
  public static final class Probe implements Serializable {
    private static final long serialVersionUID = 1L;
    public String host;
    public long pid;
    public String jvm;
    public String blas;
    public boolean nativeBlas;
    public String blasSource;
    public String blasLibrary;
    public String blasVersion;
    public String blasCore;
    public int blasThreads;
    public String coretype;
    public int cores;
    public long maxHeapBytes;
    public double gemmGflops;
    public double syrkGflops;

    static Probe here(int n) {
      Probe p = new Probe();
      try {
        p.host = InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        p.host = "unknown";
      }
      p.pid = ProcessHandle.current().pid();
      p.jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
      BlasLibrary lib = Blas.library();
      p.blas = lib.describe();
      p.nativeBlas = Blas.isNative();
      p.blasSource = lib.source().name().toLowerCase(java.util.Locale.ROOT);
      p.blasLibrary = lib.location();
      p.blasVersion = lib.version();
      p.blasCore = lib.core();
      p.blasThreads = lib.threads();
      p.coretype = System.getenv().getOrDefault("OPENBLAS_CORETYPE", "");
      p.cores = Runtime.getRuntime().availableProcessors();
      p.maxHeapBytes = Runtime.getRuntime().maxMemory();
      p.gemmGflops = gemmRate(n);
      p.syrkGflops = syrkRate(n);
      return p;
    }

    /** Useful GFLOP/s of {@code C = A Aᵀ} (upper triangle) for an n×2n A: n(n+1)·2n flops per call. */
    private static double syrkRate(int n) {
      int k = 2 * n;
      SplittableRandom rnd = new SplittableRandom(11);
      double[] a = new double[n * k];
      double[] c = new double[n * n];
      for (int i = 0; i < a.length; i++) {
        a[i] = rnd.nextDouble() - 0.5;
      }
      Blas.blas().dsyrk("U", "N", n, k, 1.0, a, n, 0.0, c, n); // warm-up
      int reps = 3;
      long t0 = System.nanoTime();
      for (int r = 0; r < reps; r++) {
        Blas.blas().dsyrk("U", "N", n, k, 1.0, a, n, 0.0, c, n);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      return (double) n * (n + 1) * k * reps / secs / 1e9;
    }

    private static double gemmRate(int n) {
      SplittableRandom rnd = new SplittableRandom(7);
      double[] a = new double[n * n];
      double[] b = new double[n * n];
      double[] c = new double[n * n];
      for (int i = 0; i < a.length; i++) {
        a[i] = rnd.nextDouble() - 0.5;
        b[i] = rnd.nextDouble() - 0.5;
      }
      Blas.blas().dgemm("N", "N", n, n, n, 1.0, a, n, b, n, 0.0, c, n); // warm-up
      int reps = 3;
      long t0 = System.nanoTime();
      for (int r = 0; r < reps; r++) {
        Blas.blas().dgemm("N", "N", n, n, n, 1.0, a, n, b, n, 0.0, c, n);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      return 2.0 * n * n * (double) n * reps / secs / 1e9;
    }

    ObjectNode toJson() {
      ObjectNode o = Manifest.json().createObjectNode();
      o.put("host", host);
      o.put("pid", pid);
      o.put("jvm", jvm);
      o.put("blas", blas);
      o.put("nativeBlas", nativeBlas);
      o.put("blasSource", blasSource);
      o.put("blasLibrary", blasLibrary);
      o.put("blasVersion", blasVersion);
      o.put("blasCore", blasCore);
      o.put("blasThreads", blasThreads);
      o.put("openblasCoretype", coretype);
      o.put("cores", cores);
      o.put("maxHeapBytes", maxHeapBytes);
      o.put("dgemmGflops", Math.round(gemmGflops * 10) / 10.0);
      o.put("dsyrkGflops", Math.round(syrkGflops * 10) / 10.0);
      return o;
    }
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    int tasks = ctx.options().getInt("tasks");
    int n = ctx.options().getInt("gemm-size");
    Probe driver = Probe.here(n);
    ctx.describe("probe " + tasks + " tasks");
    JavaSparkContext jsc = ctx.jsc();
    List<Integer> seeds = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      seeds.add(i);
    }
    List<Probe> probes = jsc.parallelize(seeds, tasks).map(i -> Probe.here(n)).collect();

    ObjectNode report = Manifest.json().createObjectNode();
    report.put("master", ctx.sparkContext().master());
    report.set("driver", driver.toJson());
    ArrayNode execs = report.putArray("tasks");
    long distinct = probes.stream().map(p -> p.host + ":" + p.pid).distinct().count();
    long separate = probes.stream().filter(p -> p.pid != driver.pid || !p.host.equals(driver.host)).count();
    for (Probe p : probes) {
      execs.add(p.toJson());
    }
    report.put("distinctExecutorJvms", distinct);
    report.put("tasksInSeparateJvms", separate);
    boolean allNative = driver.nativeBlas && probes.stream().allMatch(p -> p.nativeBlas);
    report.put("allNativeBlas", allNative);
    boolean allBundled = driver.blasSource.equals("bundled")
        && probes.stream().allMatch(p -> p.blasSource.equals("bundled"));
    report.put("allBundledBlas", allBundled);
    try (FSDataOutputStream out = ctx.outputFileSystem().create(new Path(ctx.staging(), "report.json"), true)) {
      out.write(Manifest.json().writeValueAsString(report).getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().count("tasks", tasks).count("distinctExecutorJvms", distinct)
        .count("tasksInSeparateJvms", separate);
    LOG.info("doctor: driver pid {} on {}: {}; dgemm {} GFLOP/s, dsyrk {} GFLOP/s", driver.pid, driver.host,
        driver.blas, String.format("%.1f", driver.gemmGflops), String.format("%.1f", driver.syrkGflops));
    for (Probe p : probes) {
      LOG.info("doctor: task in pid {} on {}: {}; dgemm {} GFLOP/s, dsyrk {} GFLOP/s", p.pid, p.host, p.blas,
          String.format("%.1f", p.gemmGflops), String.format("%.1f", p.syrkGflops));
    }
    LOG.info("doctor: {} tasks ran in {} executor JVM(s); bundled BLAS everywhere: {}, native everywhere: {}", tasks,
        distinct, allBundled, allNative);
    if (!allNative) {
      LOG.warn("doctor: some JVMs run BLAS/LAPACK in Java code (8-10x slower): their log says why the bundled "
          + "OpenBLAS and a system library did not load");
    } else if (!allBundled) {
      LOG.warn("doctor: some JVMs use a system BLAS/LAPACK instead of the bundled OpenBLAS: their log says why");
    }
  }
}
