package io.loraspace.common.linalg;

/** A linear map R^cols → R^rows applied to blocks, with its transpose; possibly implicit (e.g. a product of factors). */
public interface LinearOperator {
  int rows();

  int cols();

  /** A · x for x of shape cols×b; returns rows×b. */
  DenseMatrix apply(DenseMatrix x);

  /** Aᵀ · y for y of shape rows×b; returns cols×b. */
  DenseMatrix applyTranspose(DenseMatrix y);

  /** The operator of a dense matrix. */
  static LinearOperator of(DenseMatrix a) {
    return new LinearOperator() {
      @Override
      public int rows() {
        return a.rows();
      }

      @Override
      public int cols() {
        return a.cols();
      }

      @Override
      public DenseMatrix apply(DenseMatrix x) {
        return Matrices.multiply(a, false, x, false);
      }

      @Override
      public DenseMatrix applyTranspose(DenseMatrix y) {
        return Matrices.multiply(a, true, y, false);
      }
    };
  }
}
