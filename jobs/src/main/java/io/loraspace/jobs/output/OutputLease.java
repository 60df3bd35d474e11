package io.loraspace.jobs.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per output location: a lease file {@code .<name>.loraspace-lease} next to the output, held by the run
 * that writes there and renewed by a heartbeat (a counter rewritten every {@code timeout / 6}).
 *
 * <p>A run finding someone else's lease decides whether its holder is <em>provably dead</em>:
 * <ul>
 *   <li>holder on this machine (same host name, boot id and PID namespace): dead when its process is gone or its PID
 *       now belongs to a process started at another instant;
 *   <li>holder elsewhere: dead when the lease does not change for a whole {@code timeout}, watched from here (no
 *       clocks are compared across machines).
 * </ul>
 * A dead holder's lease is taken over (logged); a live holder's makes this run fail at once with a message naming it.
 * Before each publish step the holder checks that the lease is still its own (fencing: a run that was wrongly taken
 * for dead, e.g. after a GC pause longer than the timeout, fails instead of publishing over its successor).
 *
 * <p>Creation is create-if-absent followed by a read-back; on object stores without conditional writes two runs that
 * start within the same few milliseconds could both believe they hold it, which the read-back narrows but does not
 * close. Schedulers are expected to run one task per output location; the lease protects against retries and leftovers.
 */
public final class OutputLease implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutputLease.class);
  static final String FORMAT = "loraspace-lease";

  private final FileSystem fs;
  private final Path file;
  private final String runId;
  private final long timeoutMillis;
  private final ObjectNode content;
  private final Thread heartbeat;
  private volatile boolean closed;
  /** Wakes the heartbeat when closing: it is never interrupted, so a rewrite in progress completes, not torn. */
  private final Object wake = new Object();
  private volatile String lostTo;

  private OutputLease(FileSystem fs, Path file, String runId, long timeoutMillis, ObjectNode content) {
    this.fs = fs;
    this.file = file;
    this.runId = runId;
    this.timeoutMillis = timeoutMillis;
    this.content = content;
    this.heartbeat = new Thread(this::beat, "loraspace-lease-" + runId);
    this.heartbeat.setDaemon(true);
  }

  /** The lease file of an output location. */
  public static Path fileOf(Path output) {
    return new Path(output.getParent(), "." + output.getName() + ".loraspace-lease");
  }

  /**
   * Takes the lease of {@code output} for {@code runId}, taking it over from a dead holder, or fails naming a live one.
   *
   * @param timeoutMillis how long a lease held from another machine must stay unchanged before its holder counts as
   *     dead; the heartbeat interval is a sixth of it
   */
  public static OutputLease acquire(FileSystem fs, Path output, String runId, long timeoutMillis) throws IOException {
    Path file = fileOf(output);
    ObjectNode mine = describeThisProcess(runId);
    for (int attempt = 0; attempt < 5; attempt++) {
      if (!fs.exists(file)) {
        mine.put("seq", 0);
        try (OutputStream out = fs.create(file, false)) {
          out.write(Manifest.JSON.writeValueAsBytes(mine));
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
          continue;
        }
        JsonNode back = read(fs, file);
        if (back != null && runId.equals(back.path("runId").asText())) {
          OutputLease lease = new OutputLease(fs, file, runId, timeoutMillis, mine);
          lease.heartbeat.start();
          return lease;
        }
        continue;
      }
      JsonNode holder = read(fs, file);
      String why = deadReason(fs, file, holder, timeoutMillis);
      if (why == null) {
        throw new StateException("Output '" + output + "' is being written by another run (" + describe(holder)
            + "); one run per output location at a time. If that run is dead on another machine, its lease '" + file
            + "' counts as expired after " + timeoutMillis / 1000 + " s without a heartbeat");
      }
      LOG.warn("Output {}: the run holding it ({}) is dead ({}): taking over its lease", output, describe(holder), why);
      fs.delete(file, false);
    }
    throw new StateException("Could not take the lease '" + file + "' of output '" + output + "' after 5 attempts "
        + "(another run is starting at the same time)");
  }

  /** Fails when the lease is no longer this run's (taken over by a run that thought this one dead). */
  public void checkHeld() throws IOException {
    JsonNode now = read(fs, file);
    String holder = now == null ? null : now.path("runId").asText(null);
    if (lostTo != null || !runId.equals(holder)) {
      throw new StateException("Run " + runId + " lost its lease on '" + file + "' to "
          + (now == null ? "nobody (the lease file is gone)" : describe(now)) + "; not publishing");
    }
  }

  /** Stops the heartbeat and deletes the lease file if it is still this run's. Never throws. */
  @Override
  public void close() {
    synchronized (wake) {
      closed = true;
      wake.notifyAll();
    }
    try {
      heartbeat.join(5000);
      JsonNode now = read(fs, file);
      if (now != null && runId.equals(now.path("runId").asText())) {
        fs.delete(file, false);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not release the lease {}: {}", file, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void beat() {
    long interval = Math.max(50, timeoutMillis / 6);
    long seq = 0;
    while (true) {
      synchronized (wake) {
        long until = System.nanoTime() + interval * 1_000_000L;
        long left;
        while (!closed && (left = until - System.nanoTime()) > 0) {
          try {
            wake.wait(Math.max(1, left / 1_000_000L));
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
      }
      try {
        JsonNode now = read(fs, file);
        if (now != null && !runId.equals(now.path("runId").asText())) {
          lostTo = describe(now);
          LOG.error("Run {} lost its lease on {} to {}", runId, file, lostTo);
          return;
        }
        content.put("seq", ++seq);
        try (OutputStream out = fs.create(file, true)) {
          out.write(Manifest.JSON.writeValueAsBytes(content));
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("Lease heartbeat on {} failed (will retry): {}", file, e.toString());
      }
    }
  }

  /** Null when the holder may be alive; otherwise why it is provably dead. */
  private static String deadReason(FileSystem fs, Path file, JsonNode holder, long timeoutMillis) throws IOException {
    if (holder == null) {
      return fs.exists(file) ? watch(fs, file, null, timeoutMillis) : "lease released";
    }
    if (sameMachine(holder)) {
      long pid = holder.path("pid").asLong(-1);
      Optional<ProcessHandle> ph = ProcessHandle.of(pid);
      if (ph.isEmpty() || !ph.get().isAlive()) {
        return "process " + pid + " on this machine has exited";
      }
      String started = ph.get().info().startInstant().map(Instant::toString).orElse("");
      String recorded = holder.path("pidStart").asText("");
      if (!recorded.isEmpty() && !started.isEmpty() && !recorded.equals(started)) {
        return "process " + pid + " on this machine is another process now (started " + started + ")";
      }
      return null;
    }
    return watch(fs, file, holder, timeoutMillis);
  }

  /** Watches a lease from elsewhere for up to {@code timeoutMillis}: dead when it never changes. */
  private static String watch(FileSystem fs, Path file, JsonNode first, long timeoutMillis) throws IOException {
    LOG.info("Lease {} is held by {}: watching it for up to {} s for a heartbeat", file,
        first == null ? "an unreadable lease" : describe(first), timeoutMillis / 1000.0);
    byte[] before = bytes(fs, file);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      try {
        Thread.sleep(Math.max(20, timeoutMillis / 12));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StateException("Interrupted while watching the lease '" + file + "'");
      }
      byte[] now = bytes(fs, file);
      if (now == null) {
        return "lease released";
      }
      if (!Arrays.equals(before, now)) {
        return null;
      }
    }
    return "no heartbeat for " + timeoutMillis / 1000.0 + " s";
  }

  private static byte[] bytes(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return in.readAllBytes();
    } catch (java.io.FileNotFoundException e) {
      return null;
    }
  }

  /** The lease's JSON, or null when absent or unreadable (torn by a concurrent heartbeat rewrite). */
  static JsonNode read(FileSystem fs, Path file) throws IOException {
    for (int i = 0; i < 3; i++) {
      byte[] b = bytes(fs, file);
      if (b == null) {
        return null;
      }
      try {
        JsonNode n = Manifest.JSON.readTree(b);
        if (n != null && FORMAT.equals(n.path("format").asText())) {
          return n;
        }
      } catch (IOException e) {
        // torn read: retry
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    return null;
  }

  static String describe(JsonNode holder) {
    if (holder == null) {
      return "unknown run";
    }
    return "run " + holder.path("runId").asText("?") + " on " + holder.path("host").asText("?") + ", pid "
        + holder.path("pid").asText("?") + ", started " + holder.path("started").asText("?");
  }

  private static ObjectNode describeThisProcess(String runId) {
    ObjectNode n = Manifest.JSON.createObjectNode();
    ProcessHandle self = ProcessHandle.current();
    n.put("format", FORMAT);
    n.put("runId", runId);
    n.put("host", hostName());
    n.put("bootId", bootId());
    n.put("pidNamespace", pidNamespace());
    n.put("pid", self.pid());
    n.put("pidStart", self.info().startInstant().map(Instant::toString).orElse(""));
    n.put("started", Instant.now().toString());
    return n;
  }

  /** Same host name, boot and PID namespace: only then does a PID identify the holder's process. */
  private static boolean sameMachine(JsonNode holder) {
    return hostName().equals(holder.path("host").asText()) && bootId().equals(holder.path("bootId").asText())
        && !bootId().isEmpty() && pidNamespace().equals(holder.path("pidNamespace").asText());
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String bootId() {
    try {
      return Files.readString(java.nio.file.Path.of("/proc/sys/kernel/random/boot_id")).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String pidNamespace() {
    try {
      return Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/pid")).toString();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
