package io.loraspace.common.stats;

import java.io.ObjectStreamException;
import java.io.Serializable;

/**
 * Serialization proxy: every accumulator's {@code writeReplace} returns one of these holding its
 * {@link AccumulatorFormat} bytes, and {@code readResolve} parses them back with the strict reader. Java serialization
 * therefore ships exactly the versioned format and validates it on arrival.
 */
final class SerializedAccumulator implements Serializable {
  private static final long serialVersionUID = 1L;

  private final byte[] bytes;

  SerializedAccumulator(byte[] bytes) {
    this.bytes = bytes;
  }

  private Object readResolve() throws ObjectStreamException {
    return AccumulatorFormat.read(bytes);
  }
}
