package io.loraspace.jobs.cli;

import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.output.OutputCommitter;
import io.loraspace.jobs.spark.ProgressListener;
import io.loraspace.jobs.spark.SparkSessions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What a running job sees: its resolved options, a SparkSession (created on first use), the staging directory to
 * write into, and the manifest to record inputs and counts in.
 */
public final class JobContext {
  private final Job job;
  private final Options options;
  private final OutputCommitter committer;
  private final Manifest manifest;
  private final Configuration hadoopConf;
  private SparkSession spark;
  private ProgressListener progress;

  JobContext(Job job, Options options, OutputCommitter committer, Manifest manifest, Configuration hadoopConf,
      SparkSession spark, ProgressListener progress) {
    this.job = job;
    this.options = options;
    this.committer = committer;
    this.manifest = manifest;
    this.hadoopConf = hadoopConf;
    this.spark = spark;
    this.progress = progress;
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

  /** The Hadoop configuration for reading inputs (the session's, when Spark runs). */
  public Configuration hadoopConf() {
    return spark != null ? spark.sparkContext().hadoopConfiguration() : hadoopConf;
  }

  public SparkSession spark() {
    if (spark == null) {
      spark = SparkSessions.create(job.name(), options.sparkConf());
      progress = new ProgressListener(10_000);
      spark.sparkContext().addSparkListener(progress);
    }
    return spark;
  }

  /** Sets the Spark job description shown in the UI and in progress lines. */
  public void describe(String description) {
    spark().sparkContext().setJobDescription(job.name() + ": " + description);
  }

  /** Totals of bytes read and shuffled so far, or null when Spark was not used. */
  public ProgressListener progress() {
    return progress;
  }

  SparkSession sparkIfStarted() {
    return spark;
  }
}
