package io.loraspace.jobs.spark;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.LoraspaceException;
import java.io.Serializable;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.CollectionAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deterministic data errors found in a task (a malformed block, a mislabelled dtype, a shape that contradicts the
 * header: {@link FormatException}, {@link ArgumentException}) fail the job at once instead of being retried
 * {@code spark.task.maxFailures} times, each retry re-reading the same large file to the same error. I/O errors and
 * everything else keep Spark's retries.
 *
 * <p>How: a guarded task function catches such an error, records its message in an accumulator and ends the task
 * successfully with no output, so Spark has nothing to retry; a listener on the driver sees the accumulator change at
 * that task's end and cancels the running jobs; {@link #throwIfRecorded} (called by the job runner whether the job
 * failed or finished) turns the first recorded error back into the exception with its one-line message.
 */
public final class DataErrors implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DataErrors.class);
  private static final char SEP = '\t';

  private final CollectionAccumulator<String> recorded;

  private DataErrors(CollectionAccumulator<String> recorded) {
    this.recorded = recorded;
  }

  /** Registers the accumulator and the cancelling listener on {@code sc}. Driver only. */
  public static DataErrors register(SparkContext sc) {
    DataErrors errors = new DataErrors(sc.collectionAccumulator("loraspace data errors"));
    AtomicBoolean cancelled = new AtomicBoolean();
    sc.addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!errors.recorded.isZero() && cancelled.compareAndSet(false, true)) {
          LOG.error("Data error in stage {} task {}: cancelling all jobs (not retried): {}", end.stageId(),
              end.taskInfo().index(), errors.first().getMessage());
          sc.cancelAllJobs();
        }
      }
    });
    return errors;
  }

  /** In a task: runs {@code body}; a data error is recorded and gives an empty result. */
  public <T> Iterator<T> guard(Callable<Iterator<T>> body) throws Exception {
    try {
      return body.call();
    } catch (FormatException | ArgumentException e) {
      record(e);
      return Collections.emptyIterator();
    }
  }

  /** In a task: one value, or none when {@code body} hit a data error (recorded). */
  public <T> Iterator<T> guardOne(Callable<T> body) throws Exception {
    return guard(() -> Collections.singletonList(body.call()).iterator());
  }

  private void record(LoraspaceException e) {
    String kind = e instanceof ArgumentException ? "argument" : "format";
    LOG.error("Data error (the job fails, the task is not retried): {}", e.getMessage());
    recorded.add(kind + SEP + e.getMessage());
  }

  /** The first recorded error, or null. Driver only. */
  public LoraspaceException first() {
    List<String> all = recorded.value();
    if (all.isEmpty()) {
      return null;
    }
    String r = all.get(0);
    int tab = r.indexOf(SEP);
    String message = r.substring(tab + 1);
    return r.startsWith("argument") ? new ArgumentException(message) : new FormatException(message);
  }

  /** Throws the first recorded data error, if any (with {@code cause}, the job's own failure, suppressed). */
  public void throwIfRecorded(Throwable cause) {
    LoraspaceException e = first();
    if (e != null) {
      if (cause != null) {
        e.addSuppressed(cause);
      }
      throw e;
    }
  }
}
