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

  /**
   * Does the work. Check options and cheap inputs (existence, headers, shapes) before the first
   * {@link JobContext#spark()} call, so bad input fails within seconds; throw a {@code LoraspaceException} with a
   * one-line message naming the file, row, tensor or key and the value.
   */
  void run(JobContext context) throws Exception;
}
