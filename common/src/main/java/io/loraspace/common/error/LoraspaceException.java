package io.loraspace.common.error;

/**
 * Root of the project's small runtime exception family. Messages are one line and name what failed and the offending
 * value (file, row, tensor, key), because the CLI prints exactly this message as the run's failure line.
 */
public abstract class LoraspaceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected LoraspaceException(String message) {
    super(message);
  }

  protected LoraspaceException(String message, Throwable cause) {
    super(message, cause);
  }
}
