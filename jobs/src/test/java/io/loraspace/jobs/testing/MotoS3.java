package io.loraspace.jobs.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for tests: moto's server on 127.0.0.1, with the Hadoop s3a settings that point at it.
 * Buckets are created over plain HTTP (moto accepts any credentials). The server runs from the project's Python
 * environment ({@link Repo#python()}: {@code <repo>/.venv}, where {@code scripts/setup-python.sh} installs
 * {@code moto[server]}) as {@code python -m moto.server}; a {@code moto_server} on the PATH is never used.
 * {@code $LORASPACE_MOTO_SERVER} names another server executable explicitly.
 */
public final class MotoS3 implements AutoCloseable {
  private final Process process;
  private final int port;

  private MotoS3(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static MotoS3 start(Path logDir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder(command(port));
    pb.redirectErrorStream(true);
    pb.redirectOutput(Files.createTempFile(logDir, "moto-", ".log").toFile());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("Cannot start moto's server " + pb.command() + " (run scripts/setup-python.sh, which "
          + "installs moto[server] into the project venv): " + e.getMessage(), e);
    }
    MotoS3 m = new MotoS3(p, port);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        http.send(HttpRequest.newBuilder(URI.create(m.endpoint() + "/")).GET().build(),
            HttpResponse.BodyHandlers.discarding());
        return m;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          m.close();
          throw new AssertionError("moto's server " + pb.command() + " did not come up on port " + port + " (exit "
              + (p.isAlive() ? "none" : Integer.toString(p.exitValue())) + "; log in " + logDir + "); run "
              + "scripts/setup-python.sh if moto[server] is missing from the venv", e);
        }
        Thread.sleep(200);
      }
    }
  }

  /** The server command: {@code $LORASPACE_MOTO_SERVER} if set, else {@code <venv python> -m moto.server}. */
  static List<String> command(int port) {
    String exe = System.getenv("LORASPACE_MOTO_SERVER");
    List<String> cmd = new java.util.ArrayList<>();
    if (exe != null && !exe.isEmpty()) {
      cmd.add(exe);
    } else {
      cmd.addAll(List.of(Repo.python().toString(), "-m", "moto.server"));
    }
    cmd.addAll(List.of("-H", "127.0.0.1", "-p", Integer.toString(port)));
    return cmd;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public void createBucket(String bucket) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(endpoint() + "/" + bucket)).PUT(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("Creating bucket " + bucket + " failed: " + r.statusCode() + " " + r.body());
    }
  }

  /** Hadoop settings (without the spark.hadoop. prefix) for s3a against this server. */
  public Map<String, String> hadoopConf() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("fs.s3a.endpoint", endpoint());
    c.put("fs.s3a.endpoint.region", "us-east-1");
    c.put("fs.s3a.path.style.access", "true");
    c.put("fs.s3a.connection.ssl.enabled", "false");
    c.put("fs.s3a.access.key", "testing");
    c.put("fs.s3a.secret.key", "testing");
    c.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    c.put("fs.s3a.change.detection.mode", "none");
    c.put("fs.s3a.impl.disable.cache", "true");
    return c;
  }

  /** The same settings as {@code --set spark.hadoop.<key>=<value>} arguments. */
  public List<String> sparkSettings() {
    List<String> out = new java.util.ArrayList<>();
    hadoopConf().forEach((k, v) -> out.add("spark.hadoop." + k + "=" + v));
    return out;
  }

  @Override
  public void close() {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
