package io.loraspace.common.correct;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;

/**
 * One module's LoRA update in factored form, {@code ΔW = s·B·A}: A is r×in ({@code lora_A.weight}), B is out×r
 * ({@code lora_B.weight}) and s the adapter's scaling for the module (alpha/r, alpha/√r with rsLoRA, patterns
 * applied). Immutable by convention: methods never write into the factors.
 */
public final class LoraUpdate {
  private final DenseMatrix a;
  private final DenseMatrix b;
  private final double scaling;

  public LoraUpdate(DenseMatrix a, DenseMatrix b, double scaling) {
    if (a.rows() != b.cols()) {
      throw new ArgumentException("lora_A has shape " + a.shapeString() + " and lora_B " + b.shapeString()
          + ", which disagree on the rank");
    }
    if (!(scaling > 0) || !Double.isFinite(scaling)) {
      throw new ArgumentException("LoRA scaling is " + scaling + ", expected a finite value > 0");
    }
    this.a = a;
    this.b = b;
    this.scaling = scaling;
  }

  /** r×in. */
  public DenseMatrix a() {
    return a;
  }

  /** out×r. */
  public DenseMatrix b() {
    return b;
  }

  public double scaling() {
    return scaling;
  }

  public int rank() {
    return a.rows();
  }

  public int in() {
    return a.cols();
  }

  public int out() {
    return b.rows();
  }

  /** {@code s·B·A} formed densely (out×in): for tests and references only. */
  public DenseMatrix dense() {
    DenseMatrix d = DenseMatrix.zeros(out(), in());
    Matrices.multiply(scaling, b, false, a, false, 0.0, d);
    return d;
  }

  /** {@code ‖B A‖_F²} from r×r Grams: {@code tr((BᵀB)(AAᵀ))}. */
  public double unscaledEnergy() {
    return Factored.inner(Matrices.multiply(b, true, b, false), Matrices.multiply(a, false, a, true));
  }
}
