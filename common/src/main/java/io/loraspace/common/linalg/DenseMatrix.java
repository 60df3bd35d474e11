package io.loraspace.common.linalg;

import io.loraspace.common.error.ArgumentException;
import java.util.Arrays;

/**
 * A dense real matrix stored column-major in one {@code double[]} with leading dimension {@code rows}: element (i, j)
 * lives at {@code data[i + j * rows]}. This is the layout BLAS/LAPACK expect, so kernels pass {@link #data()} straight
 * through without copies. The backing array is exposed on purpose (kernels write into it); callers that need isolation
 * use {@link #copy()}.
 */
public final class DenseMatrix {
  private final int rows;
  private final int cols;
  private final double[] data;

  private DenseMatrix(int rows, int cols, double[] data) {
    this.rows = rows;
    this.cols = cols;
    this.data = data;
  }

  /** A rows×cols matrix of zeros. */
  public static DenseMatrix zeros(int rows, int cols) {
    checkShape(rows, cols);
    return new DenseMatrix(rows, cols, new double[Math.multiplyExact(rows, cols)]);
  }

  /** The n×n identity. */
  public static DenseMatrix identity(int n) {
    DenseMatrix m = zeros(n, n);
    for (int i = 0; i < n; i++) {
      m.data[i + i * n] = 1.0;
    }
    return m;
  }

  /** Wraps a column-major array without copying; its length must be rows×cols. */
  public static DenseMatrix wrap(int rows, int cols, double[] columnMajor) {
    checkShape(rows, cols);
    if (columnMajor.length != (long) rows * cols) {
      throw new ArgumentException(
          "Column-major array has length " + columnMajor.length + ", expected " + rows + "×" + cols + " = "
              + ((long) rows * cols));
    }
    return new DenseMatrix(rows, cols, columnMajor);
  }

  /** Copies a row-major array (element (i, j) at {@code rowMajor[i * cols + j]}) into a new matrix. */
  public static DenseMatrix fromRowMajor(int rows, int cols, double[] rowMajor) {
    checkShape(rows, cols);
    if (rowMajor.length != (long) rows * cols) {
      throw new ArgumentException(
          "Row-major array has length " + rowMajor.length + ", expected " + rows + "×" + cols + " = "
              + ((long) rows * cols));
    }
    DenseMatrix m = zeros(rows, cols);
    // The row-major array is the column-major storage of the cols×rows transpose.
    transposeInto(rowMajor, cols, rows, m.data);
    return m;
  }

  /** Builds a matrix from nested rows, {@code values[i][j]} = element (i, j). Convenient for tests and small inputs. */
  public static DenseMatrix of(double[][] values) {
    int r = values.length;
    int c = r == 0 ? 0 : values[0].length;
    DenseMatrix m = zeros(r, c);
    for (int i = 0; i < r; i++) {
      if (values[i].length != c) {
        throw new ArgumentException("Row " + i + " has " + values[i].length + " values, expected " + c);
      }
      for (int j = 0; j < c; j++) {
        m.data[i + j * r] = values[i][j];
      }
    }
    return m;
  }

  private static void checkShape(int rows, int cols) {
    if (rows < 0 || cols < 0) {
      throw new ArgumentException("Matrix shape [" + rows + ", " + cols + "] has a negative dimension");
    }
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  /** The backing column-major array (not a copy). */
  public double[] data() {
    return data;
  }

  public double get(int i, int j) {
    return data[i + j * rows];
  }

  public void set(int i, int j, double value) {
    data[i + j * rows] = value;
  }

  public void add(int i, int j, double value) {
    data[i + j * rows] += value;
  }

  public DenseMatrix copy() {
    return new DenseMatrix(rows, cols, data.clone());
  }

  /** A new matrix holding the transpose. */
  public DenseMatrix transpose() {
    DenseMatrix t = zeros(cols, rows);
    transposeInto(data, rows, cols, t.data);
    return t;
  }

  /** Tile edge of {@link #transposeInto}: a tile's source and destination lines stay in L1. */
  private static final int TILE = 32;

  /**
   * Writes the transpose of the column-major r×c array {@code src} into {@code dst} as a column-major c×r array
   * ({@code dst[j + i·c] = src[i + j·r]}), tile by tile: an element-by-element loop strides one side by a whole column
   * and was the largest cost of reading and writing big matrices (a 3072×2048 weight, a 3072² Gram).
   */
  static void transposeInto(double[] src, int r, int c, double[] dst) {
    for (int j0 = 0; j0 < c; j0 += TILE) {
      int j1 = Math.min(c, j0 + TILE);
      for (int i0 = 0; i0 < r; i0 += TILE) {
        int i1 = Math.min(r, i0 + TILE);
        for (int j = j0; j < j1; j++) {
          int from = j * r;
          for (int i = i0; i < i1; i++) {
            dst[j + i * c] = src[i + from];
          }
        }
      }
    }
  }

  /** A copy of column j. */
  public double[] column(int j) {
    return Arrays.copyOfRange(data, j * rows, (j + 1) * rows);
  }

  /** A new matrix made of columns [from, to). */
  public DenseMatrix columns(int from, int to) {
    if (from < 0 || to > cols || from > to) {
      throw new ArgumentException("Column range [" + from + ", " + to + ") outside [0, " + cols + ")");
    }
    return new DenseMatrix(rows, to - from, Arrays.copyOfRange(data, from * rows, to * rows));
  }

  /** Row-major copy: element (i, j) at {@code [i * cols + j]} (the layout of safetensors and PyTorch). */
  public double[] toRowMajor() {
    double[] out = new double[data.length];
    transposeInto(data, rows, cols, out);
    return out;
  }

  public double frobeniusNorm() {
    // Scaled sum of squares, as LAPACK dlange does, to avoid overflow on large entries.
    double scale = 0.0;
    double ssq = 1.0;
    for (double v : data) {
      if (v != 0.0) {
        double a = Math.abs(v);
        if (scale < a) {
          ssq = 1.0 + ssq * (scale / a) * (scale / a);
          scale = a;
        } else {
          ssq += (a / scale) * (a / scale);
        }
      }
    }
    return scale * Math.sqrt(ssq);
  }

  /** Fills the strict lower triangle from the upper one (after BLAS {@code dsyrk} with uplo = "U"). */
  public void symmetrizeFromUpper() {
    if (rows != cols) {
      throw new ArgumentException("symmetrizeFromUpper needs a square matrix, got [" + rows + ", " + cols + "]");
    }
    for (int j = 0; j < cols; j++) {
      for (int i = j + 1; i < rows; i++) {
        data[i + j * rows] = data[j + i * rows];
      }
    }
  }

  public String shapeString() {
    return "[" + rows + ", " + cols + "]";
  }

  @Override
  public String toString() {
    return "DenseMatrix" + shapeString();
  }
}
