package io.loraspace.common.stats;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import io.loraspace.common.linalg.Blas;
import io.loraspace.common.linalg.DenseMatrix;

/**
 * Kernels shared by the accumulators. Gram matrices are d×d column-major arrays of which only the upper triangle
 * (element (i, j) with i ≤ j at {@code [i + j * d]}) is maintained; the strict lower triangle stays zero.
 */
final class StatsKernels {
  private StatsKernels() {}

  /**
   * {@code upper += Xᵀ X} restricted to the upper triangle, where X is the row-major k×d block at {@code a[aOffset..]}
   * (equivalently {@code upper += A Aᵀ} with A = the same memory read as a column-major d×k matrix, lda = d).
   * Only the upper triangle of {@code upper} is modified. One BLAS {@code dsyrk} call; nothing is allocated.
   */
  static void syrkUpper(double[] a, int aOffset, int d, int k, double[] upper) {
    if (k == 0) {
      return;
    }
    // Naive loop (reference):
    // for (int t = 0; t < k; t++)
    //   for (int j = 0; j < d; j++)
    //     for (int i = 0; i <= j; i++)
    //       upper[i + j * d] += a[aOffset + t * d + i] * a[aOffset + t * d + j];
    Blas.blas().dsyrk("U", "N", d, k, 1.0, a, aOffset, d, 1.0, upper, 0, d);
  }

  /** {@code dst += src} on the upper triangle of two d×d arrays; {@code src} is not modified (it may be {@code dst}). */
  static void addUpper(double[] src, double[] dst, int d) {
    for (int j = 0; j < d; j++) {
      int col = j * d;
      for (int i = 0; i <= j; i++) {
        dst[col + i] += src[col + i];
      }
    }
  }

  /** {@code dst[j] += src[j]} for j in [0, n). */
  static void addVector(double[] src, double[] dst, int n) {
    for (int j = 0; j < n; j++) {
      dst[j] += src[j];
    }
  }

  /** {@code sum[j] += Σ_t x[offset + t * d + j]}: column sums of a row-major rows×d block added to {@code sum}. */
  static void addColumnSums(double[] x, int offset, int rows, int d, double[] sum, int sumOffset) {
    for (int t = 0; t < rows; t++) {
      int row = offset + t * d;
      for (int j = 0; j < d; j++) {
        sum[sumOffset + j] += x[row + j];
      }
    }
  }

  /**
   * Side of the square tiles of {@link #fillLowerFromUpper}: a 64×64 tile of doubles (32 KiB) and the 64 columns it
   * reads from stay in L1/L2, so the transposed reads do not miss on every element as the untiled loop does for large
   * d (a cache property of the kernel, not a tuning knob).
   */
  private static final int TILE = 64;

  /** A new full symmetric d×d matrix from the upper triangle of {@code upper} (which is not modified). */
  static DenseMatrix fullSymmetric(double[] upper, int d) {
    double[] full = upper.clone();
    fillLowerFromUpper(full, d);
    return DenseMatrix.wrap(d, d, full);
  }

  /**
   * Overwrites the strict lower triangle of the column-major d×d array {@code m} with the transpose of its upper
   * triangle; the upper triangle is not modified.
   */
  static void fillLowerFromUpper(double[] m, int d) {
    // Naive loop (reference; DenseMatrix.symmetrizeFromUpper):
    // for (int j = 0; j < d; j++)
    //   for (int i = j + 1; i < d; i++)
    //     m[i + j * d] = m[j + i * d];
    for (int jb = 0; jb < d; jb += TILE) {
      int jEnd = Math.min(jb + TILE, d);
      for (int ib = jb; ib < d; ib += TILE) {
        int iEnd = Math.min(ib + TILE, d);
        for (int j = jb; j < jEnd; j++) {
          int col = j * d;
          for (int i = Math.max(ib, j + 1); i < iEnd; i++) {
            m[col + i] = m[j + i * d];
          }
        }
      }
    }
  }

  /** Checks that a row-major rows×width block starting at {@code offset} lies inside {@code array}. */
  static void checkBlock(String what, double[] array, int offset, int rows, int width) {
    if (rows < 0) {
      throw new ArgumentException(what + " row count must be >= 0, got " + rows);
    }
    long need = (long) rows * width;
    if (offset < 0 || offset > array.length - need) {
      throw new ArgumentException(what + " of " + rows + "×" + width + " = " + need + " values at offset " + offset
          + " does not fit in an array of length " + array.length);
    }
  }

  /**
   * Checks that {@code other} can merge into {@code into} (same kind and shape).
   *
   * @throws StateException naming both kinds and shapes otherwise
   */
  static void checkMergeable(Accumulator into, Accumulator other) {
    if (other == null) {
      throw new ArgumentException("Cannot merge null into " + into.kind() + " " + into.shapeString());
    }
    if (other.kind() != into.kind()) {
      throw new StateException("Cannot merge " + other.kind() + " " + other.shapeString() + " into " + into.kind() + " "
          + into.shapeString() + ": kinds differ");
    }
    if (other.rows() != into.rows() || other.cols() != into.cols()) {
      throw new StateException("Cannot merge " + other.kind() + " " + other.shapeString() + " into " + into.kind() + " "
          + into.shapeString() + ": shapes differ");
    }
  }

  static void checkDim(String what, int d) {
    if (d < 1) {
      throw new ArgumentException(what + " must be >= 1, got " + d);
    }
  }
}
