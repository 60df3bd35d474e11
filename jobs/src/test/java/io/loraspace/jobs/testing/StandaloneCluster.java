package io.loraspace.jobs.testing;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on loopback for integration tests: one master and one worker in their own JVMs,
 * executors launched by the worker in further JVMs, and {@code SparkSubmit} in another (MACHINE.md). Spark is not
 * downloaded: SPARK_HOME/jars links the Maven-resolved jars of the embedded classpath.
 */
public final class StandaloneCluster implements AutoCloseable {
  private final Path home;
  private final Path logs;
  private final int masterPort;
  private final List<Process> daemons = new ArrayList<>();

  private StandaloneCluster(Path home, Path logs, int masterPort) {
    this.home = home;
    this.logs = logs;
    this.masterPort = masterPort;
  }

  /** Starts a master and a worker with {@code workerCores} cores and {@code workerMemory} (e.g. "2g"). */
  public static StandaloneCluster start(Path workDir, String embeddedClasspathFile, int workerCores,
      String workerMemory) throws Exception {
    Path home = workDir.resolve("spark-home");
    Path jars = home.resolve("jars");
    Files.createDirectories(jars);
    String cp = Files.readString(Path.of(embeddedClasspathFile), StandardCharsets.UTF_8).trim();
    for (String entry : cp.split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        Path link = jars.resolve(p.getFileName());
        if (!Files.exists(link)) {
          Files.createSymbolicLink(link, p);
        }
      }
    }
    Files.writeString(home.resolve("RELEASE"), "Spark 4.0.1 (jars linked from the Maven build for tests)\n");
    Path logs = workDir.resolve("cluster-logs");
    Files.createDirectories(logs);
    int port = freePort();
    StandaloneCluster c = new StandaloneCluster(home, logs, port);
    try {
      c.daemons.add(c.launch("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
          "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort()))));
      c.waitForLog("master", "I have been elected leader", 60);
      c.daemons.add(c.launch("worker", List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
          "--cores", Integer.toString(workerCores), "--memory", workerMemory, "--webui-port",
          Integer.toString(freePort()), "--work-dir", workDir.resolve("worker-work").toString(), c.masterUrl())));
      c.waitForLog("worker", "Successfully registered with master", 60);
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  public Path sparkHome() {
    return home;
  }

  private Map<String, String> env(ProcessBuilder pb) {
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    return env;
  }

  private Process launch(String name, List<String> mainAndArgs) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx512m", "-cp", home.resolve("jars") + "/*"));
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    env(pb);
    pb.redirectErrorStream(true);
    pb.redirectOutput(logs.resolve(name + ".log").toFile());
    return pb.start();
  }

  private void waitForLog(String name, String text, int seconds) throws Exception {
    Path log = logs.resolve(name + ".log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(text)) {
        return;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("Spark " + name + " did not log '" + text + "' within " + seconds + " s; log:\n"
        + (Files.exists(log) ? Files.readString(log) : "(none)"));
  }

  /** Result of one spark-submit: exit code and combined output. */
  public static final class Submission {
    public final int exitCode;
    public final String output;

    Submission(int exitCode, String output) {
      this.exitCode = exitCode;
      this.output = output;
    }
  }

  /**
   * Runs {@code SparkSubmit --master <this cluster> --class <mainClass> [sparkConf...] <appJar> <args...>} in its own
   * JVM (client deploy mode: the driver is that JVM) and waits for it.
   */
  public Submission submit(String appJar, String mainClass, List<String> sparkConf, List<String> args,
      Map<String, String> extraEnv, int timeoutSeconds) throws Exception {
    return submit(appJar, mainClass, sparkConf, args, extraEnv, timeoutSeconds, "1g");
  }

  /** As {@link #submit(String, String, List, List, Map, int)} with the driver JVM's heap limit ({@code -Xmx}). */
  public Submission submit(String appJar, String mainClass, List<String> sparkConf, List<String> args,
      Map<String, String> extraEnv, int timeoutSeconds, String driverHeap) throws Exception {
    return start(appJar, mainClass, sparkConf, args, extraEnv, driverHeap).await(timeoutSeconds);
  }


  /** A spark-submit running in the background (see {@link #start}). */
  public static final class Running {
    public final Process process;
    public final Path log;

    Running(Process process, Path log) {
      this.process = process;
      this.log = log;
    }

    /** Waits until the output contains {@code text}; fails if the process ends first or after the timeout. */
    public void awaitOutput(String text, int seconds) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (!Files.readString(log).contains(text)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("spark-submit did not print '" + text + "' (alive " + process.isAlive()
              + "):\n" + Files.readString(log));
        }
        Thread.sleep(100);
      }
    }

    public Submission await(int seconds) throws Exception {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("spark-submit did not finish within " + seconds + " s; output:\n"
            + Files.readString(log));
      }
      return new Submission(process.exitValue(), Files.readString(log));
    }
  }

  /** Starts a spark-submit like {@link #submit} without waiting for it. */
  public Running start(String appJar, String mainClass, List<String> sparkConf, List<String> args) throws Exception {
    return start(appJar, mainClass, sparkConf, args, Map.of(), "1g");
  }

  private Running start(String appJar, String mainClass, List<String> sparkConf, List<String> args,
      Map<String, String> extraEnv, String driverHeap) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + driverHeap, "-cp", home.resolve("jars") + "/*",
        "org.apache.spark.deploy.SparkSubmit", "--master", masterUrl(), "--class", mainClass));
    for (String c : sparkConf) {
      cmd.add("--conf");
      cmd.add(c);
    }
    cmd.add(appJar);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    env(pb).putAll(extraEnv);
    pb.redirectErrorStream(true);
    Path out = Files.createTempFile(logs, "submit-", ".log");
    pb.redirectOutput(out.toFile());
    return new Running(pb.start(), out);
  }


  /** The executor JVMs the worker has launched and that are running now. */
  public List<ProcessHandle> executors() {
    List<ProcessHandle> out = new ArrayList<>();
    for (Process d : daemons) {
      d.descendants().filter(ph -> ph.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend"))
          .orElse(false)).forEach(out::add);
    }
    return out;
  }

  @Override
  public void close() {
    for (int i = daemons.size() - 1; i >= 0; i--) {
      Process d = daemons.get(i);
      d.descendants().forEach(ProcessHandle::destroy);
      d.destroy();
      try {
        if (!d.waitFor(20, TimeUnit.SECONDS)) {
          d.descendants().forEach(ProcessHandle::destroyForcibly);
          d.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
