package io.loraspace.common.io.peft;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LoRA adapter in PEFT orientation: per module, {@code A} (r×in, {@code lora_A.weight}) and {@code B} (out×r,
 * {@code lora_B.weight}); the update is {@code ΔW = s·B·A} with {@code s = config.scaling(module)}. Modules keep
 * insertion order. Shapes are checked on {@link #put}: A and B must agree on r, and r must be the config's rank for
 * that module.
 */
public final class LoraAdapter {
  /** One module's factors. */
  public static final class Factors {
    private final DenseMatrix a;
    private final DenseMatrix b;

    public Factors(DenseMatrix a, DenseMatrix b) {
      this.a = a;
      this.b = b;
    }

    /** r×in. */
    public DenseMatrix a() {
      return a;
    }

    /** out×r. */
    public DenseMatrix b() {
      return b;
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
  }

  private final AdapterConfig config;
  private final Map<String, Factors> modules = new LinkedHashMap<>();

  public LoraAdapter(AdapterConfig config) {
    this.config = config;
  }

  public AdapterConfig config() {
    return config;
  }

  /** Adds a module's factors, checking shapes against each other and the config's rank for the module. */
  public LoraAdapter put(String module, DenseMatrix a, DenseMatrix b) {
    if (a.rows() != b.cols()) {
      throw new ArgumentException("Module '" + module + "': lora_A has shape " + a.shapeString() + " and lora_B "
          + b.shapeString() + ", which disagree on the rank");
    }
    int r = config.rankOf(module);
    if (a.rows() != r) {
      throw new ArgumentException("Module '" + module + "': lora_A has shape " + a.shapeString() + " (rank "
          + a.rows() + "), but the config gives this module r = " + r);
    }
    if (modules.put(module, new Factors(a, b)) != null) {
      throw new ArgumentException("Module '" + module + "' added twice");
    }
    return this;
  }

  public Map<String, Factors> modules() {
    return Collections.unmodifiableMap(modules);
  }

  public Factors factors(String module) {
    Factors f = modules.get(module);
    if (f == null) {
      throw new ArgumentException("Adapter has no module '" + module + "'");
    }
    return f;
  }

  /** {@code s·B·A} for {@code module} (out×in), formed densely: for tests and small modules. */
  public DenseMatrix delta(String module) {
    Factors f = factors(module);
    double s = config.scaling(module);
    int out = f.out();
    int in = f.in();
    int r = f.rank();
    double[] d = new double[out * in];
    double[] a = f.a().data();
    double[] b = f.b().data();
    // d[i, j] = s * sum_k b[i, k] a[k, j]
    for (int j = 0; j < in; j++) {
      for (int k = 0; k < r; k++) {
        double akj = s * a[k + j * r];
        if (akj != 0.0) {
          for (int i = 0; i < out; i++) {
            d[i + j * out] += b[i + k * out] * akj;
          }
        }
      }
    }
    return DenseMatrix.wrap(out, in, d);
  }
}
