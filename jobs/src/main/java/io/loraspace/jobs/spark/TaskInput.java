package io.loraspace.jobs.spark;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.TaskContext;

/**
 * Input bytes of tasks that read files themselves (not through a Spark data source), reported in the task's input
 * metrics so that the Spark UI, {@link ProgressListener}'s "read" figure and the manifest's {@code sparkBytesRead}
 * count them. The bytes are the Hadoop file systems' per-thread read counters, as Spark's own file sources measure
 * them: what was read from storage (Parquet pages, safetensors bytes), not what was decoded.
 */
public final class TaskInput {
  private TaskInput() {}

  /** Bytes this thread has read through Hadoop file systems so far. */
  public static long threadBytesRead() {
    long total = 0;
    for (FileSystem.Statistics s : FileSystem.getAllStatistics()) {
      total += s.getThreadStatistics().getBytesRead();
    }
    return total;
  }

  /**
   * Adds {@code bytes} read without a Hadoop file system (a local checkpoint through java.nio) to the running task's
   * input metrics; does nothing outside a task.
   */
  public static void report(long bytes) {
    TaskContext tc = TaskContext.get();
    if (tc != null && bytes > 0) {
      tc.taskMetrics().inputMetrics().incBytesRead(bytes);
    }
  }

  /**
   * Adds {@code threadBytesRead() − since} to the running task's input metrics; does nothing outside a task.
   * {@code InputMetrics.incBytesRead} is Spark-internal in Scala ({@code private[spark]}, public in bytecode); its
   * file sources use it for the same purpose.
   */
  public static void reportSince(long since) {
    TaskContext tc = TaskContext.get();
    long read = threadBytesRead() - since;
    if (tc != null && read > 0) {
      tc.taskMetrics().inputMetrics().incBytesRead(read);
    }
  }
}
