package io.loraspace.jobs.output;

import java.io.IOException;

/**
 * Called by {@link OutputCommitter} at each step of a publish, by name: {@code staged}, {@code journal-written},
 * {@code success-removed}, {@code moving-old} (halfway, per-file moves only), {@code old-moved}, {@code moving-new}
 * (halfway, per-file moves only), {@code new-moved}, {@code success-written}, {@code published}; and
 * {@code running} once the output is prepared, before the job's work.
 *
 * <p>{@link #fromSystemProperties()} gives the fault-injection hook of the crash tests: with the JVM property
 * {@value #PAUSE_PROPERTY} naming a step, the process prints {@code loraspace-test: paused at <step>} to standard error
 * and waits there until it is killed. Without the property the hook does nothing.
 */
@FunctionalInterface
public interface PublishHook {
  String PAUSE_PROPERTY = "loraspace.test.pause-at";

  PublishHook NONE = step -> { };

  void at(String step) throws IOException;

  static PublishHook fromSystemProperties() {
    String pauseAt = System.getProperty(PAUSE_PROPERTY);
    if (pauseAt == null || pauseAt.isEmpty()) {
      return NONE;
    }
    return step -> {
      if (step.equals(pauseAt)) {
        System.err.println("loraspace-test: paused at " + step);
        System.err.flush();
        while (true) {
          try {
            Thread.sleep(60_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while paused at " + step);
          }
        }
      }
    };
  }
}
