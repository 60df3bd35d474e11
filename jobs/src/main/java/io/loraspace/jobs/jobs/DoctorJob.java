package io.loraspace.jobs.jobs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.linalg.Blas;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobContext;
import io.loraspace.jobs.cli.OptionSpec;
import io.loraspace.jobs.output.Manifest;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
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
 * Checks the environment the jobs will run in, on the driver and on every executor: JVM, process, host, BLAS/LAPACK
 * backend, {@code OPENBLAS_CORETYPE}, and a measured dgemm rate. Writes {@code report.json}. Operators run it once per
 * cluster (a Java fallback or a misdetected OpenBLAS core type costs 3-10x on every job).
 */
public final class DoctorJob implements Job {
  private static final Logger LOG = LoggerFactory.getLogger(DoctorJob.class);

  @Override
  public String name() {
    return "doctor";
  }

  @Override
  public String summary() {
    return "check driver and executors: JVMs, native BLAS/LAPACK, OPENBLAS_CORETYPE, dgemm GFLOP/s";
  }

  @Override
  public OptionSpec options() {
    return OptionSpec.builder()
        .intOption("tasks", 4, 1, 100_000, "Probe tasks to spread over the executors")
        .intOption("gemm-size", 512, 1, 8192, "Size n of the n×n dgemm timed on each JVM")
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
    public String coretype;
    public int cores;
    public long maxHeapBytes;
    public double gemmGflops;

    static Probe here(int n) {
      Probe p = new Probe();
      try {
        p.host = InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        p.host = "unknown";
      }
      p.pid = ProcessHandle.current().pid();
      p.jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
      p.blas = Blas.describe();
      p.nativeBlas = Blas.isNative();
      p.coretype = System.getenv().getOrDefault("OPENBLAS_CORETYPE", "");
      p.cores = Runtime.getRuntime().availableProcessors();
      p.maxHeapBytes = Runtime.getRuntime().maxMemory();
      p.gemmGflops = gemmRate(n);
      return p;
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
      o.put("openblasCoretype", coretype);
      o.put("cores", cores);
      o.put("maxHeapBytes", maxHeapBytes);
      o.put("dgemmGflops", Math.round(gemmGflops * 10) / 10.0);
      return o;
    }
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    int tasks = ctx.options().getInt("tasks");
    int n = ctx.options().getInt("gemm-size");
    Probe driver = Probe.here(n);
    ctx.describe("probe " + tasks + " tasks");
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    List<Integer> seeds = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      seeds.add(i);
    }
    List<Probe> probes = jsc.parallelize(seeds, tasks).map(i -> Probe.here(n)).collect();

    ObjectNode report = Manifest.json().createObjectNode();
    report.put("master", ctx.spark().sparkContext().master());
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
    try (FSDataOutputStream out = ctx.outputFileSystem().create(new Path(ctx.staging(), "report.json"), true)) {
      out.write(Manifest.json().writeValueAsString(report).getBytes(StandardCharsets.UTF_8));
    }
    ctx.manifest().count("tasks", tasks).count("distinctExecutorJvms", distinct)
        .count("tasksInSeparateJvms", separate);
    LOG.info("doctor: driver pid {} on {} ({}, {} GFLOP/s); {} tasks ran in {} executor JVM(s); native BLAS everywhere: {}",
        driver.pid, driver.host, driver.blas, String.format("%.1f", driver.gemmGflops), tasks, distinct, allNative);
    if (!allNative) {
      LOG.warn("doctor: some JVMs use the Java BLAS fallback: install libopenblas0-pthread on every node");
    }
  }
}
