package io.loraspace.jobs.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs stage progress with rates at most every {@code intervalMillis}: tasks done of total, bytes read, bytes
 * shuffled, and their rates since the stage started. Also totals what the manifest reports (bytes read, shuffle
 * bytes).
 */
public final class ProgressListener extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger("io.loraspace.progress");

  private final long intervalMillis;
  private final Map<Integer, StageState> stages = new ConcurrentHashMap<>();
  private final AtomicLong totalBytesRead = new AtomicLong();
  private final AtomicLong totalShuffleWriteBytes = new AtomicLong();
  private final AtomicLong totalRecordsRead = new AtomicLong();
  private volatile long lastLog;

  private static final class StageState {
    final String name;
    final int tasks;
    final long start = System.currentTimeMillis();
    final AtomicLong done = new AtomicLong();
    final AtomicLong bytesRead = new AtomicLong();
    final AtomicLong shuffleBytes = new AtomicLong();

    StageState(String name, int tasks) {
      this.name = name;
      this.tasks = tasks;
    }
  }

  public ProgressListener(long intervalMillis) {
    this.intervalMillis = intervalMillis;
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted event) {
    StageInfo info = event.stageInfo();
    String desc = event.properties() == null ? null : event.properties().getProperty("spark.job.description");
    String name = (desc != null ? desc + " / " : "") + info.name();
    stages.put(info.stageId(), new StageState(name, info.numTasks()));
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    StageState s = stages.get(event.stageId());
    if (s == null || event.taskMetrics() == null) {
      return;
    }
    long read = event.taskMetrics().inputMetrics().bytesRead();
    long shuffle = event.taskMetrics().shuffleWriteMetrics().bytesWritten();
    s.done.incrementAndGet();
    s.bytesRead.addAndGet(read);
    s.shuffleBytes.addAndGet(shuffle);
    totalBytesRead.addAndGet(read);
    totalShuffleWriteBytes.addAndGet(shuffle);
    totalRecordsRead.addAndGet(event.taskMetrics().inputMetrics().recordsRead());
    long now = System.currentTimeMillis();
    if (now - lastLog >= intervalMillis) {
      lastLog = now;
      log(s, now);
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    StageState s = stages.remove(event.stageInfo().stageId());
    if (s != null) {
      log(s, System.currentTimeMillis());
    }
  }

  private static void log(StageState s, long now) {
    double secs = Math.max(1e-3, (now - s.start) / 1000.0);
    LOG.info(String.format("%s: %d/%d tasks, read %s (%s/s), shuffle %s, %.1fs", s.name, s.done.get(), s.tasks,
        human(s.bytesRead.get()), human((long) (s.bytesRead.get() / secs)), human(s.shuffleBytes.get()), secs));
  }

  public long bytesRead() {
    return totalBytesRead.get();
  }

  public long shuffleWriteBytes() {
    return totalShuffleWriteBytes.get();
  }

  public long recordsRead() {
    return totalRecordsRead.get();
  }

  /** 1536 -> "1.5 KiB". */
  public static String human(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format("%.1f %s", v, units[u]);
  }
}
