package io.loraspace.jobs.cli;

/**
 * One sub-command of the {@code loraspace} CLI. A job declares every option it reads, and does its work in
 * {@link #run}: it reads inputs, writes only under {@link JobContext#staging()}, and records counts and inputs in the
 * manifest; the framework publishes the output atomically and writes {@code manifest.json} and {@code _SUCCESS} last.
 */
public interface Job {
  /** The sub-command name, kebab-case. */
  String name();

  /** One line for {@code loraspace help}. */
  String summary();

  /** Job-specific options; the framework adds its own (out, overwrite, ...). */
  OptionSpec options();

  /** Default of the {@code out} option, or null when the user must give one. */
  default String defaultOutput() {
    return null;
  }

  /** Whether the job needs a SparkSession (jobs that only write local files can run without one). */
  default boolean usesSpark() {
    return true;
  }

  /** Does the work. Throw a {@code LoraspaceException} with a one-line message on bad input. */
  void run(JobContext context) throws Exception;
}
