package io.loraspace.jobs.spark;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * Creates the job's SparkContext, and a SparkSession on it for the jobs that use Spark SQL. Under {@code spark-submit}
 * the master and settings come from it; run embedded (no {@code spark.master} anywhere) Spark runs in local mode in this
 * JVM. User {@code spark.*} options win over the defaults set here. Jobs that only run RDDs never create the session:
 * its Spark SQL start-up (Scala reflection, the session state) cost 2.3 s of a 7 s start-up on the development
 * machine (docs/benchmarks.md).
 */
public final class SparkSessions {
  /** Spark contexts this JVM has started: observed by the tests that check bad input fails before Spark starts. */
  private static final AtomicInteger CREATED = new AtomicInteger();

  private SparkSessions() {}

  /** How many Spark contexts {@link #context} has started in this JVM. */
  public static int created() {
    return CREATED.get();
  }

  /**
   * The Hadoop configuration a session would have, without starting one: Hadoop's defaults and site files, then every
   * {@code spark.hadoop.*} setting from spark-submit (system properties, spark-defaults) and from the job's options.
   */
  public static Configuration hadoopConfiguration(Map<String, String> userSparkConf) {
    SparkConf conf = new SparkConf(true);
    for (Map.Entry<String, String> e : userSparkConf.entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    Configuration hadoop = new Configuration();
    for (scala.Tuple2<String, String> kv : conf.getAllWithPrefix("spark.hadoop.")) {
      hadoop.set(kv._1(), kv._2());
    }
    hadoop.setIfUnset("fs.file.impl", PlainLocalFileSystem.class.getName());
    hadoop.setIfUnset("fs.file.impl.disable.cache", "true");
    return hadoop;
  }

  /** True when no master was given by spark-submit or the options: the job runs in local mode in this JVM. */
  public static boolean isEmbedded(SparkConf conf) {
    return !conf.contains("spark.master");
  }

  /** Starts the job's SparkContext (local mode when embedded) with the project's defaults and the BLAS plugin. */
  public static SparkContext context(String jobName, Map<String, String> userSparkConf) {
    SparkConf conf = new SparkConf(true);
    for (Map.Entry<String, String> e : userSparkConf.entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    if (isEmbedded(conf)) {
      conf.setMaster("local[*]");
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    }
    conf.setIfMissing("spark.app.name", "loraspace-" + jobName);
    // Local paths without Hadoop's .crc side files; HDFS/S3 are unaffected.
    conf.setIfMissing("spark.hadoop.fs.file.impl", PlainLocalFileSystem.class.getName());
    // Uncached, so an instance created earlier in this JVM with Hadoop's defaults is never handed back instead.
    conf.setIfMissing("spark.hadoop.fs.file.impl.disable.cache", "true");
    // BLAS/LAPACK on the driver and every executor before MLlib or a task uses netlib, threads = spark.task.cpus.
    conf.set("spark.plugins", withPlugin(conf.get("spark.plugins", ""), BlasPlugin.class.getName()));
    CREATED.incrementAndGet();
    return SparkContext.getOrCreate(conf);
  }

  /** A SparkSession on the job's running context: Spark SQL's {@code spark.sql.*} settings come from its conf. */
  public static SparkSession session(SparkContext context) {
    return SparkSession.builder().sparkContext(context).getOrCreate();
  }

  /** The comma-separated plugin list {@code plugins} with {@code plugin} appended once. */
  static String withPlugin(String plugins, String plugin) {
    for (String p : plugins.split(",")) {
      if (p.trim().equals(plugin)) {
        return plugins;
      }
    }
    return plugins.isBlank() ? plugin : plugins + "," + plugin;
  }
}
