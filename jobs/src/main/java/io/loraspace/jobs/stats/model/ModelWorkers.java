package io.loraspace.jobs.stats.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model workers of this JVM (an executor, or the driver in local mode), kept between tasks like Spark's own Python
 * workers: loading a model costs seconds, so a worker that finished a task waits idle for the next one with the same
 * key (interpreter, model, device, dtype, modules). Workers end with the JVM (their stdin closes) or when they fail.
 * This is a cache of processes, the one piece of per-JVM mutable state of the model mode.
 */
public final class ModelWorkers {
  private static final Logger LOG = LoggerFactory.getLogger(ModelWorkers.class);
  private static final String[] SCRIPTS = {"model_worker.py", "capture_hooks.py"};
  private static final Map<String, Deque<ModelWorker>> IDLE = new HashMap<>();
  private static final List<ModelWorker> ALL = new ArrayList<>();
  private static Path scriptDir;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ModelWorkers::closeAll, "loraspace-model-workers-shutdown"));
  }

  private ModelWorkers() {}

  /** A worker for {@code key}: an idle one, or a new one started with {@code env}. */
  public static ModelWorker borrow(String key, String python, Map<String, String> env, long startTimeoutMillis)
      throws IOException {
    synchronized (IDLE) {
      Deque<ModelWorker> idle = IDLE.get(key);
      while (idle != null && !idle.isEmpty()) {
        ModelWorker w = idle.pollFirst();
        if (w.alive()) {
          return w;
        }
      }
    }
    ModelWorker w = ModelWorker.start(key, python, script().toString(), env, startTimeoutMillis);
    synchronized (IDLE) {
      ALL.add(w);
    }
    return w;
  }

  /** Returns a healthy worker for the next task. */
  public static void release(ModelWorker w) {
    if (!w.alive()) {
      return;
    }
    synchronized (IDLE) {
      IDLE.computeIfAbsent(w.key, k -> new ArrayDeque<>()).addLast(w);
    }
  }

  /** Ends a worker that failed or whose state is unknown. */
  public static void discard(ModelWorker w) {
    synchronized (IDLE) {
      ALL.remove(w);
    }
    w.close();
  }

  /** The workers alive in this JVM (for tests and the doctor). */
  public static List<Long> pids() {
    List<Long> out = new ArrayList<>();
    synchronized (IDLE) {
      for (ModelWorker w : ALL) {
        if (w.alive()) {
          out.add(w.pid());
        }
      }
    }
    return out;
  }

  private static void closeAll() {
    List<ModelWorker> all;
    synchronized (IDLE) {
      all = new ArrayList<>(ALL);
      ALL.clear();
      IDLE.clear();
    }
    // Every pipe closed first, then the waits: the workers exit side by side, not one after the other.
    all.forEach(ModelWorker::closeInput);
    all.forEach(ModelWorker::close);
  }

  /** The worker script, extracted from the job jar once per JVM. */
  static synchronized Path script() throws IOException {
    if (scriptDir == null) {
      Path dir = Files.createTempDirectory("loraspace-python-");
      for (String name : SCRIPTS) {
        try (InputStream in = ModelWorkers.class.getResourceAsStream("/loraspace/python/" + name)) {
          if (in == null) {
            throw ModelWorker.noScript(name);
          }
          Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      dir.toFile().deleteOnExit();
      for (String name : SCRIPTS) {
        dir.resolve(name).toFile().deleteOnExit();
      }
      LOG.info("Model worker scripts extracted to {}", dir);
      scriptDir = dir;
    }
    return scriptDir.resolve(SCRIPTS[0]);
  }
}
