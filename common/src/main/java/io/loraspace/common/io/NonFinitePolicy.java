package io.loraspace.common.io;

/** What to do with NaN or ±Inf in decoded activations or gradients. */
public enum NonFinitePolicy {
  /** Fail naming the token and dimension (the default: bad inputs must not silently shift statistics). */
  FAIL,
  /** Drop every token row holding a non-finite value and count the dropped rows. */
  SKIP
}
