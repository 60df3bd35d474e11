package io.loraspace.jobs.spark;

import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.BlasLibrary;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the BLAS/LAPACK library ({@link BlasLibrary}: bundled OpenBLAS, else system, else Java) on the driver and on
 * every executor as the JVM starts, before Spark MLlib or a task touches netlib, so both use it, and sets its threads
 * per call so that the tasks of one executor do not oversubscribe the cores Spark gives them:
 *
 * <ul>
 *   <li>executor, and the driver in local mode (where it runs the tasks): {@code spark.task.cpus} threads per call;
 *       the executor runs up to {@code spark.executor.cores / spark.task.cpus} tasks at once, each calling BLAS from
 *       its own thread, so the BLAS threads of concurrent tasks add up to the executor's cores;
 *   <li>driver of a cluster (runs no tasks): {@code spark.driver.cores} threads (Spark's default 1).
 * </ul>
 * {@code OPENBLAS_NUM_THREADS} in the JVM's environment (on executors: {@code spark.executorEnv.OPENBLAS_NUM_THREADS})
 * wins: the library read it as it loaded and the plugin leaves it. Registered by {@link SparkSessions}.
 */
public final class BlasPlugin implements SparkPlugin {
  private static final Logger LOG = LoggerFactory.getLogger(BlasPlugin.class);

  /** Threads per BLAS call for a JVM that runs tasks ({@code local} is true for the local-mode driver). */
  static int threadsPerCall(SparkConf conf, boolean runsTasks) {
    return runsTasks ? conf.getInt("spark.task.cpus", 1) : conf.getInt("spark.driver.cores", 1);
  }

  /** Loads the library and applies the thread count unless the environment set one; returns what was applied. */
  static int configure(SparkConf conf, boolean runsTasks, String where) {
    BlasLibrary lib = Blas.library();
    String env = System.getenv("OPENBLAS_NUM_THREADS");
    if (env != null && !env.isEmpty()) {
      LOG.info("BLAS on the {}: {}; threads from OPENBLAS_NUM_THREADS={}", where, lib.describe(), env);
      return lib.threads();
    }
    int threads = threadsPerCall(conf, runsTasks);
    if (lib.setThreads(threads)) {
      LOG.info("BLAS on the {}: {} ({} per call: {})", where, lib.describe(), threads,
          runsTasks ? "spark.task.cpus" : "spark.driver.cores");
    }
    return threads;
  }

  @Override
  public DriverPlugin driverPlugin() {
    return new DriverPlugin() {
      @Override
      public Map<String, String> init(SparkContext sc, PluginContext ctx) {
        configure(sc.getConf(), sc.isLocal(), "driver");
        return Map.of();
      }
    };
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new ExecutorPlugin() {
      @Override
      public void init(PluginContext ctx, Map<String, String> extraConf) {
        configure(ctx.conf(), true, "executor " + ctx.executorID());
      }
    };
  }
}
