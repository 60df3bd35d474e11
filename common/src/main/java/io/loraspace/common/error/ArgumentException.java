package io.loraspace.common.error;

/** A caller passed a bad value: an option, a shape, a rank, a parameter outside its domain. */
public final class ArgumentException extends LoraspaceException {
  private static final long serialVersionUID = 1L;

  public ArgumentException(String message) {
    super(message);
  }

  public ArgumentException(String message, Throwable cause) {
    super(message, cause);
  }
}
