package io.loraspace.jobs.stats.model;

import java.io.Serializable;

/** What a model worker runs, as resolved from the stats job's options (shipped to executors). */
public final class ModelSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Model checkpoint directory: a local/NFS path or a Hadoop URI (hdfs://, s3a://) fetched once per executor. */
  public String model;
  /** Python interpreter on the executors (e.g. ./venv/bin/python with spark.archives=venv.tar.gz#venv). */
  public String python;
  /** torch dtype the model runs in: float32, bfloat16 or float64 (statistics are float64 regardless). */
  public String dtype;
  /** auto (the GPU Spark assigned to the task, else CPU) or cpu. */
  public String device;
  /** Linear modules captured, as PEFT target_modules (comma list) or re:REGEX. */
  public String modules;
  /** Seconds one request (model load, one sample, a flush) may take before the worker is killed. */
  public long timeoutSeconds;
  /** fail or skip for non-finite activations or gradients. */
  public String nonFinite;
}
