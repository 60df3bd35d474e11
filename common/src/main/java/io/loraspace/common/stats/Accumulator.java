package io.loraspace.common.stats;

import java.io.Serializable;

/**
 * A mergeable float64 statistics accumulator. Every implementation is a {@code final} class over primitive arrays;
 * {@code update} methods allocate nothing in steady state; {@link #merge} changes only {@code this}; getters return
 * copies and never change what later getters, merges or serialization produce.
 *
 * <p>Java serialization goes through the versioned byte format of {@link AccumulatorFormat} (a serialization proxy),
 * so Java serialization, Kryo's {@code JavaSerializer} and {@link #toBytes()} ship the same bytes. Kryo's default
 * field serializer also round-trips these classes (all state is in plain fields).
 */
public sealed interface Accumulator extends Serializable
    permits TokenGramAccumulator, SampleGramAccumulator, CrossProductAccumulator, DiagonalSecondMomentAccumulator {

  /** What this accumulator holds. */
  AccumulatorKind kind();

  /** First shape dimension as written in the byte header: d for the Grams, out for cross products and diagonals. */
  int rows();

  /** Second shape dimension as written in the byte header: d for the Grams, in for cross products, 1 for diagonals. */
  int cols();

  /** {@code "[rows, cols]"}. */
  default String shapeString() {
    return "[" + rows() + ", " + cols() + "]";
  }

  /**
   * Adds the statistics of {@code other} into {@code this}; {@code other} is not modified ({@code other} may be
   * {@code this}, which doubles every statistic). Merging is associative and order-independent up to float64
   * rounding.
   *
   * @throws io.loraspace.common.error.StateException when {@code other} has another kind or shape; the message names
   *     both kinds and shapes
   */
  void merge(Accumulator other);

  /** An independent deep copy with the same statistics. */
  Accumulator copy();

  /** The versioned bytes of {@link AccumulatorFormat}; {@code this} is not modified. */
  default byte[] toBytes() {
    return AccumulatorFormat.write(this);
  }
}
