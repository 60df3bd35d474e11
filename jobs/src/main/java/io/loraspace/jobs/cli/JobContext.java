package io.loraspace.jobs.cli;

import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.output.OutputCommitter;
import io.loraspace.jobs.spark.DataErrors;
import io.loraspace.jobs.spark.ProgressListener;
import io.loraspace.jobs.spark.SparkSessions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * What a running job sees: its resolved options, a SparkContext and, for jobs that use Spark SQL, a SparkSession (each
 * started on first use), the staging directory to write into, and the manifest to record inputs and counts in.
 */
public final class JobContext {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JobContext.class);
  private final Job job;
  private final Options options;
  private final OutputCommitter committer;
  private final Manifest manifest;
  private final Configuration hadoopConf;
  private SparkContext sc;
  private SparkSession spark;
  private ProgressListener progress;
  private DataErrors dataErrors;

  JobContext(Job job, Options options, OutputCommitter committer, Manifest manifest, Configuration hadoopConf) {
    this.job = job;
    this.options = options;
    this.committer = committer;
    this.manifest = manifest;
    this.hadoopConf = hadoopConf;
  }

  public Options options() {
    return options;
  }

  public Manifest manifest() {
    return manifest;
  }

  /** The directory the job writes into; published atomically as the output on success. */
  public Path staging() {
    return committer.staging();
  }

  /** The final output location (for messages and for what the job prints at the end). */
  public Path output() {
    return committer.output();
  }

  public FileSystem outputFileSystem() {
    return committer.fs();
  }

  public OutputCommitter committer() {
    return committer;
  }

  /**
   * The Hadoop configuration for reading inputs: before Spark starts, one built from the same settings the session
   * will get ({@code spark.hadoop.*}); afterwards the session's.
   */
  public Configuration hadoopConf() {
    return sc != null ? sc.hadoopConfiguration() : hadoopConf;
  }

  /**
   * The job's SparkContext, started on first use. Jobs check their options and cheap inputs first, so that bad input
   * fails within seconds, before Spark starts.
   */
  public SparkContext sparkContext() {
    if (sc == null) {
      sc = SparkSessions.context(job.name(), options.sparkConf());
      progress = new ProgressListener(10_000);
      sc.addSparkListener(progress);
      dataErrors = DataErrors.register(sc);
    }
    return sc;
  }

  /** The job's SparkContext for the Java RDD API. */
  public JavaSparkContext jsc() {
    return JavaSparkContext.fromSparkContext(sparkContext());
  }

  /** A SparkSession on the job's context, for jobs that use Spark SQL (DataFrames, Spark's Parquet writer). */
  public SparkSession spark() {
    if (spark == null) {
      spark = SparkSessions.session(sparkContext());
    }
    return spark;
  }

  /**
   * Sets the Spark job description shown in the UI and in progress lines (and logs it); does not start Spark: work
   * before the session exists is only logged.
   */
  public void describe(String description) {
    LOG.info("{}: {}", job.name(), description);
    if (sc != null) {
      sc.setJobDescription(job.name() + ": " + description);
    }
  }

  /** Totals of bytes read and shuffled so far, or null when Spark was not used. */
  public ProgressListener progress() {
    return progress;
  }

  /**
   * The run's data-error channel: task functions wrapped by {@link DataErrors#guard} fail the job at once on a
   * format error instead of being retried. Starts Spark.
   */
  public DataErrors dataErrors() {
    sparkContext();
    return dataErrors;
  }

  /** Throws the first data error a task recorded, if any. */
  void throwRecordedDataError(Throwable jobFailure) {
    if (dataErrors != null) {
      dataErrors.throwIfRecorded(jobFailure);
    }
  }

  /** The SparkContext when one was started, else null. */
  SparkContext contextIfStarted() {
    return sc;
  }
}
