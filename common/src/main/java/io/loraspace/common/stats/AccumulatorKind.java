package io.loraspace.common.stats;

/**
 * The kinds of statistics accumulator, with the id each one carries in the byte format ({@link AccumulatorFormat}).
 * Ids are part of the format: never renumber them, only add new ones.
 */
public enum AccumulatorKind {
  /** Token Gram {@code Σ x xᵀ}, token sum and token count of one capture site ({@link TokenGramAccumulator}). */
  TOKEN_GRAM(1),
  /** Sample Gram {@code Σ x̂ x̂ᵀ} of per-sample sums with its bias terms ({@link SampleGramAccumulator}). */
  SAMPLE_GRAM(2),
  /** Gradient/input cross products {@code Σ g xᵀ} of one module ({@link CrossProductAccumulator}). */
  CROSS_PRODUCT(3),
  /** Output-gradient diagonal second moments {@code Σ g∘g} ({@link DiagonalSecondMomentAccumulator}). */
  DIAGONAL_SECOND_MOMENT(4);

  private final int id;

  AccumulatorKind(int id) {
    this.id = id;
  }

  /** The id written in the byte format. */
  public int id() {
    return id;
  }

  /** The kind with this id, or null when no kind has it. */
  static AccumulatorKind fromId(int id) {
    for (AccumulatorKind k : values()) {
      if (k.id == id) {
        return k;
      }
    }
    return null;
  }

  /** "1 (TOKEN_GRAM), 2 (SAMPLE_GRAM), ..." for error messages. */
  static String describeAll() {
    StringBuilder sb = new StringBuilder();
    for (AccumulatorKind k : values()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(k.id).append(" (").append(k.name()).append(')');
    }
    return sb.toString();
  }
}
