package io.loraspace.common.error;

/** An operation cannot proceed in the current state: incompatible merge, solver that did not converge, output exists. */
public final class StateException extends LoraspaceException {
  private static final long serialVersionUID = 1L;

  public StateException(String message) {
    super(message);
  }

  public StateException(String message, Throwable cause) {
    super(message, cause);
  }
}
