package io.loraspace.jobs.spark;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Creates the job's SparkSession. Under {@code spark-submit} the master and settings come from it; run embedded (no
 * {@code spark.master} anywhere) the session is local mode in this JVM. User {@code spark.*} options win over the
 * defaults set here.
 */
public final class SparkSessions {
  private SparkSessions() {}

  /** True when no master was given by spark-submit or the options: the job runs in local mode in this JVM. */
  public static boolean isEmbedded(SparkConf conf) {
    return !conf.contains("spark.master");
  }

  public static SparkSession create(String jobName, Map<String, String> userSparkConf) {
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
    // Executors load OpenBLAS too: give them the driver's core type unless the user chose one (MACHINE.md).
    String coretype = System.getenv("OPENBLAS_CORETYPE");
    if (coretype != null && !coretype.isEmpty()) {
      conf.setIfMissing("spark.executorEnv.OPENBLAS_CORETYPE", coretype);
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
