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
 * A real S3-compatible server for tests: {@code moto_server} on 127.0.0.1 (MACHINE.md), with the Hadoop s3a settings
 * that point at it. Buckets are created over plain HTTP (moto accepts any credentials).
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
    String exe = System.getenv().getOrDefault("LORASPACE_MOTO_SERVER", "moto_server");
    ProcessBuilder pb = new ProcessBuilder(List.of(exe, "-H", "127.0.0.1", "-p", Integer.toString(port)));
    pb.redirectErrorStream(true);
    pb.redirectOutput(Files.createTempFile(logDir, "moto-", ".log").toFile());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("Cannot start moto_server (pip install 'moto[server]'): " + e.getMessage(), e);
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
          throw new AssertionError("moto_server did not come up on port " + port, e);
        }
        Thread.sleep(200);
      }
    }
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
