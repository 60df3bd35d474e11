package io.loraspace.jobs.stats.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.StateException;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model worker process ({@code scripts/capture/model_worker.py}) and its framed protocol over stdin/stdout:
 * {@code u32 header length | JSON header | u64 payload length | payload}, little-endian. The worker's standard error
 * is kept (last 40 lines) for messages and logged at DEBUG.
 *
 * <p>Failures: a reply with {@code kind} "format" becomes a {@link FormatException} (bad input data, not retried),
 * "argument"/"environment" an {@link ArgumentException} (bad option, model directory or Python environment, not
 * retried); a worker that dies, hangs past its time-out or answers garbage is an {@link IOException} naming its exit
 * code and standard-error tail, which Spark retries on a fresh worker.
 */
public final class ModelWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelWorker.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "loraspace-model-worker-watchdog");
    t.setDaemon(true);
    return t;
  });
  private static final int TAIL_LINES = 40;

  /** A reply: JSON header and payload. */
  public static final class Reply {
    public final JsonNode header;
    public final byte[] payload;

    Reply(JsonNode header, byte[] payload) {
      this.header = header;
      this.payload = payload;
    }
  }

  final String key;
  /** The local model directory and torch device this worker was started for (set by the pool's user). */
  public String modelDir;
  public String device;
  private final Process process;
  private final OutputStream toWorker;
  private static final int READ_CHUNK = 1 << 20;
  private final InputStream fromWorker;
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private final JsonNode hello;
  private volatile boolean timedOut;

  private ModelWorker(String key, Process process, long startTimeoutMillis) throws IOException {
    this.key = key;
    this.process = process;
    this.toWorker = process.getOutputStream();
    this.fromWorker = process.getInputStream();
    Thread err = new Thread(this::drainStderr, "loraspace-model-worker-stderr-" + process.pid());
    err.setDaemon(true);
    err.start();
    Reply r = withTimeout(startTimeoutMillis, this::readFrame);
    checkOk(r);
    this.hello = r.header;
  }

  /**
   * Starts {@code python script} and reads its greeting.
   *
   * @param env extra environment of the worker process
   */
  public static ModelWorker start(String key, String python, String script, Map<String, String> env,
      long startTimeoutMillis) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(python, "-u", script);
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new ArgumentException("Cannot start the model worker with Python interpreter '" + python + "' (option "
          + "'python'): " + e.getMessage());
    }
    LOG.info("Model worker started: pid {}, {} {}", p.pid(), python, script);
    return new ModelWorker(key, p, startTimeoutMillis);
  }

  /** The worker's greeting (versions of Python, torch, transformers). */
  public JsonNode hello() {
    return hello;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** Sends one request and waits up to {@code timeoutMillis} for its reply; throws on a failure reply. */
  public Reply call(JsonNode header, byte[] payload, long timeoutMillis) throws IOException {
    Reply r = withTimeout(timeoutMillis, () -> {
      writeFrame(header, payload);
      return readFrame();
    });
    checkOk(r);
    return r;
  }

  private interface IoCall {
    Reply run() throws IOException;
  }

  private Reply withTimeout(long timeoutMillis, IoCall call) throws IOException {
    ScheduledFuture<?> kill = WATCHDOG.schedule(() -> {
      timedOut = true;
      process.destroyForcibly();
    }, timeoutMillis, TimeUnit.MILLISECONDS);
    try {
      return call.run();
    } catch (IOException e) {
      throw died(e, timeoutMillis);
    } finally {
      kill.cancel(false);
    }
  }

  private IOException died(IOException cause, long timeoutMillis) {
    String code;
    try {
      code = process.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      code = "unknown";
    }
    String why = timedOut ? "timed out after " + timeoutMillis / 1000.0 + " s (option 'worker-timeout') and was killed"
        : "exited (code " + code + ")";
    return new IOException("Model worker pid " + process.pid() + " " + why + ": " + cause.getMessage()
        + "; its stderr ends: " + tail(), cause);
  }

  private static void checkOk(Reply r) throws IOException {
    if (r.header.path("ok").asBoolean(false)) {
      return;
    }
    String kind = r.header.path("kind").asText("internal");
    String message = r.header.path("message").asText("(no message)");
    switch (kind) {
      case "format":
        throw new FormatException(message);
      case "argument":
      case "environment":
        throw new ArgumentException(message);
      default:
        throw new IOException("Model worker failed: " + message);
    }
  }

  private void writeFrame(JsonNode header, byte[] payload) throws IOException {
    byte[] h = JSON.writeValueAsBytes(header);
    ByteBuffer b = ByteBuffer.allocate(4 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(h.length).put(h).putLong(payload == null ? 0 : payload.length);
    toWorker.write(b.array());
    if (payload != null && payload.length > 0) {
      toWorker.write(payload);
    }
    toWorker.flush();
  }

  private Reply readFrame() throws IOException {
    int n = ByteBuffer.wrap(readFully(4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (n < 2 || n > (64 << 20)) {
      throw new IOException("garbled reply (header length " + n + ")");
    }
    JsonNode header = JSON.readTree(readFully(n));
    long m = ByteBuffer.wrap(readFully(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (m < 0 || m > Integer.MAX_VALUE - 8) {
      throw new IOException("garbled reply (payload length " + m + ")");
    }
    return new Reply(header, readFully((int) m));
  }

  /**
   * Reads in pieces of at most 1 MiB (the worker widens its pipe to that): the JDK's {@code FileInputStream.read(b,
   * off, len)} mallocs a native buffer of {@code len} bytes per call when {@code len} is over 8 KiB, so one read per
   * pipe-full with the whole remainder as {@code len} mapped, faulted in and freed tens of MiB about 1,400 times for
   * one 89 MiB flush (2.6–3.5 s to receive it on the benchmark VM; in 1 MiB pieces through a 1 MiB pipe, 0.5–0.6 s).
   */
  private byte[] readFully(int n) throws IOException {
    byte[] buf = new byte[n];
    int off = 0;
    while (off < n) {
      int r = fromWorker.read(buf, off, Math.min(n - off, READ_CHUNK));
      if (r < 0) {
        throw new EOFException("end of stream after " + off + " of " + n + " bytes");
      }
      off += r;
    }
    return buf;
  }

  private void drainStderr() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        LOG.debug("model worker {}: {}", process.pid(), line);
        synchronized (stderrTail) {
          stderrTail.addLast(line);
          if (stderrTail.size() > TAIL_LINES) {
            stderrTail.removeFirst();
          }
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
  }

  /** The last lines of the worker's standard error, joined with " | ". */
  public String tail() {
    List<String> lines;
    synchronized (stderrTail) {
      lines = new ArrayList<>(stderrTail);
    }
    return lines.isEmpty() ? "(nothing)" : String.join(" | ", lines.subList(Math.max(0, lines.size() - 8),
        lines.size()));
  }

  /** Closes the worker's standard input: it exits once it has read the end of its requests. */
  void closeInput() {
    try {
      toWorker.close();
    } catch (IOException e) {
      // already gone
    }
  }

  /** Closes stdin (the worker exits at end of input), then kills it if it is still there after 5 s. */
  @Override
  public void close() {
    closeInput();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  static StateException noScript(String what) {
    return new StateException("The model worker's Python files are missing from the job jar (" + what + ")");
  }
}
