package io.loraspace.common.linalg;

/** A linear map R^cols → R^rows applied to blocks, with its transpose; possibly implicit (e.g. a product of factors). */
public interface LinearOperator {
  int rows();

  int cols();

  /** A · x for x of shape cols×b; returns rows×b. */
  DenseMatrix apply(DenseMatrix x);

  /** Aᵀ · y for y of shape rows×b; returns cols×b. */
  DenseMatrix applyTranspose(DenseMatrix y);

  /** The operator given by its two products (each returns a new matrix). */
  static LinearOperator of(int rows, int cols, java.util.function.UnaryOperator<DenseMatrix> apply,
      java.util.function.UnaryOperator<DenseMatrix> applyTranspose) {
    return new LinearOperator() {
      @Override
      public int rows() {
        return rows;
      }

      @Override
      public int cols() {
        return cols;
      }

      @Override
      public DenseMatrix apply(DenseMatrix x) {
        return apply.apply(x);
      }

      @Override
      public DenseMatrix applyTranspose(DenseMatrix y) {
        return applyTranspose.apply(y);
      }
    };
  }

  /** Aᵀ, applying the same products swapped. */
  default LinearOperator transpose() {
    return of(cols(), rows(), this::applyTranspose, this::apply);
  }

  /** The operator of a dense matrix. */
  static LinearOperator of(DenseMatrix a) {
    return of(a.rows(), a.cols(), x -> Matrices.multiply(a, false, x, false), y -> Matrices.multiply(a, true, y, false));
  }
}
