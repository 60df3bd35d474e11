package io.loraspace.common.error;

/** Bytes or files on disk do not follow their format: safetensors, PEFT directories, accumulator bytes, Parquet contract. */
public final class FormatException extends LoraspaceException {
  private static final long serialVersionUID = 1L;

  public FormatException(String message) {
    super(message);
  }

  public FormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
