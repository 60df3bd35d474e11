package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;

/** A symmetric linear map on R^d applied to blocks of vectors, possibly implicit (never formed as a matrix). */
public interface SymmetricOperator {
  /** The dimension d. */
  int dim();

  /**
   * {@code out = A x} for a block {@code x} (d×b); {@code out} (d×b) is overwritten and does not alias x.
   */
  void apply(DenseMatrix x, DenseMatrix out);

  /** An implicit operator of dimension {@code dim}: {@code apply(x, out)} overwrites {@code out} with A·x. */
  static SymmetricOperator of(int dim, java.util.function.BiConsumer<DenseMatrix, DenseMatrix> apply) {
    return new SymmetricOperator() {
      @Override
      public int dim() {
        return dim;
      }

      @Override
      public void apply(DenseMatrix x, DenseMatrix out) {
        apply.accept(x, out);
      }
    };
  }

  /** The operator of a dense symmetric matrix (its upper triangle is read; BLAS dsymm). */
  static SymmetricOperator of(DenseMatrix a) {
    if (a.rows() != a.cols()) {
      throw new ArgumentException("Symmetric operator needs a square matrix, got " + a.shapeString());
    }
    int n = a.rows();
    return new SymmetricOperator() {
      @Override
      public int dim() {
        return n;
      }

      @Override
      public void apply(DenseMatrix x, DenseMatrix out) {
        if (x.rows() != n || out.rows() != n || out.cols() != x.cols()) {
          throw new ArgumentException("Operator of dim " + n + " applied to " + x.shapeString() + " into "
              + out.shapeString());
        }
        if (n == 0 || x.cols() == 0) {
          return;
        }
        Blas.blas().dsymm("L", "U", n, x.cols(), 1.0, a.data(), n, x.data(), n, 0.0, out.data(), n);
      }
    };
  }
}
