package io.loraspace.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.linalg.Blas;
import io.loraspace.jobs.BuildInfo;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.output.OutputCommitter;
import io.loraspace.jobs.output.PublishHook;
import io.loraspace.jobs.output.Redaction;
import io.loraspace.jobs.spark.ProgressListener;
import io.loraspace.jobs.spark.SparkSessions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job under the output protocol: resolve options, prepare the output, run, commit (or abort on any failure).
 */
public final class JobRunner {
  private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

  /** Options every job has (besides {@code out}, whose default depends on the job). */
  public static final OptionSpec FRAMEWORK_OPTIONS = OptionSpec.builder()
      .option("overwrite", OptionType.BOOLEAN, "false",
          "Replace an existing complete output made with other parameters")
      .choice("checksums", "sha256", List.of("sha256", "none"),
          "Checksum every output file into manifest.json (sha256) or record sizes only (none)")
      .intOption("lease-timeout", 30, 1, 86_400, "Seconds without a heartbeat after which a run on another machine "
          + "holding the output location counts as dead (its leftovers are then repaired and removed)")
      .build();

  /**
   * Options that do not change a run's result, left out of the fingerprint; {@code out} among them, so an output
   * moved elsewhere and re-run there counts as the same result.
   */
  private static final List<String> NOT_FINGERPRINTED = List.of("out", "overwrite", "checksums", "lease-timeout");

  private JobRunner() {}

  /** The full option spec of a job: its own options, then the framework's. */
  public static OptionSpec specOf(Job job) {
    OptionSpec out = OptionSpec.builder()
        .option("out", OptionType.STRING, job.defaultOutput(), "Output directory: local path, hdfs:// or s3a:// URI")
        .build();
    return job.options().plus(out).plus(FRAMEWORK_OPTIONS);
  }

  /** Hash of the job name and its result-affecting parameters: equal fingerprints mean equal results. */
  public static String fingerprint(String jobName, Options options) {
    StringBuilder sb = new StringBuilder(jobName).append('\n');
    for (Map.Entry<String, String> e : options.asText().entrySet()) {
      if (!NOT_FINGERPRINTED.contains(e.getKey())) {
        sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
      }
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs {@code job} with resolved {@code options}; returns the committed output path. On failure the staging
   * directory is removed and any earlier output is left as it was; the exception propagates.
   */
  public static String run(Job job, Options options) throws Exception {
    return run(job, options, PublishHook.fromSystemProperties());
  }

  /**
   * As {@link #run(Job, Options)} with a hook called at each publish step. No Spark context exists before the job asks
   * for one: option checks, the output location's checks and the job's own input checks run before Spark starts.
   */
  public static String run(Job job, Options options, PublishHook hook) throws Exception {
    long t0 = System.nanoTime();
    String runId = Instant.now().toString().replaceAll("[^0-9]", "").substring(0, 14) + "-"
        + UUID.randomUUID().toString().substring(0, 8);
    String fingerprint = fingerprint(job.name(), options);
    Configuration hadoopConf = SparkSessions.hadoopConfiguration(options.sparkConf());
    OutputCommitter committer = OutputCommitter.prepare(hadoopConf, options.getString("out"), job.name(), fingerprint,
        options.getBoolean("overwrite"), runId, options.getInt("lease-timeout") * 1000L, hook);
    Manifest manifest = new Manifest();
    JobContext ctx = new JobContext(job, options, committer, manifest, hadoopConf);
    String started = Instant.now().toString();
    LOG.info("{}: run {} writing to {} (staging {})", job.name(), runId, committer.output(), committer.staging());
    try {
      try {
        job.run(ctx);
      } catch (Exception | Error e) {
        ctx.throwRecordedDataError(e);
        throw e;
      }
      ctx.throwRecordedDataError(null);
      double seconds = (System.nanoTime() - t0) / 1e9;
      fillFrameworkFields(manifest, job, options, ctx, runId, fingerprint, started, seconds);
      committer.commit(manifest, "sha256".equals(options.getString("checksums")));
      return committer.output().toString();
    } catch (Exception | Error e) {
      committer.abort();
      throw e;
    } finally {
      try {
        SparkContext sc = ctx.contextIfStarted();
        if (sc != null) {
          sc.stop();
        }
      } finally {
        committer.close();
      }
    }
  }

  private static void fillFrameworkFields(Manifest manifest, Job job, Options options, JobContext ctx, String runId,
      String fingerprint, String started, double seconds) {
    Redaction redaction = Redaction.of(options.sparkConf());
    ObjectNode params = Manifest.json().createObjectNode();
    redaction.jobOptions(options.asText()).forEach(params::put);
    ObjectNode sources = Manifest.json().createObjectNode();
    options.sources().forEach((k, v) -> sources.put(k, v.name().toLowerCase(java.util.Locale.ROOT)));
    ObjectNode versions = Manifest.json().createObjectNode();
    versions.put("loraspace", BuildInfo.version());
    versions.put("gitCommit", BuildInfo.gitCommit());
    versions.put("gitDirty", BuildInfo.gitDirty());
    versions.put("java", System.getProperty("java.version"));
    versions.put("linalg", Blas.describe());
    SparkContext sc = ctx.contextIfStarted();
    if (sc != null) {
      versions.put("spark", sc.version());
      ObjectNode sparkNode = Manifest.json().createObjectNode();
      sparkNode.put("master", sc.master());
      sparkNode.put("applicationId", sc.applicationId());
      redaction.settings(options.sparkConf()).forEach(sparkNode::put);
      manifest.section("spark", sparkNode);
      ProgressListener p = ctx.progress();
      if (p != null) {
        manifest.count("sparkBytesRead", p.bytesRead());
        manifest.count("sparkShuffleWriteBytes", p.shuffleWriteBytes());
      }
    }
    manifest.putField("job", Manifest.json().getNodeFactory().textNode(job.name()));
    manifest.putField("runId", Manifest.json().getNodeFactory().textNode(runId));
    manifest.putField("fingerprint", Manifest.json().getNodeFactory().textNode(fingerprint));
    manifest.putField("startedAt", Manifest.json().getNodeFactory().textNode(started));
    manifest.putField("finishedAt", Manifest.json().getNodeFactory().textNode(Instant.now().toString()));
    manifest.putField("parameters", params);
    manifest.putField("parameterSources", sources);
    manifest.putField("versions", versions);
    manifest.timing("total", seconds);
    manifest.count("driverPeakHeapBytes", peakHeapBytes());
    manifest.count("driverMaxHeapBytes", Runtime.getRuntime().maxMemory());
  }

  /** Sum of the peak usage of the heap memory pools of this JVM (the driver's, under spark-submit). */
  static long peakHeapBytes() {
    long peak = 0;
    for (java.lang.management.MemoryPoolMXBean pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
