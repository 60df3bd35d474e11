package io.loraspace.common.correct;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.EnergySubspace;
import java.util.HashMap;
import java.util.Map;

/**
 * One module's alignment displacement {@code D = W_aligned − W_base} (out×in, the only out×in matrix the correction
 * methods hold), with its dominant singular subspaces computed on first request and then shared by every adapter
 * corrected against this module: one subspace per distinct {@link EnergySubspace.Options} instance. Not thread-safe;
 * one task owns it.
 */
public final class Displacement {
  private final String module;
  private final DenseMatrix d;
  private final double energy;
  private final Map<EnergySubspace.Options, EnergySubspace> subspaces = new HashMap<>();
  private int computed;

  /** Takes ownership of {@code d}. */
  public Displacement(String module, DenseMatrix d) {
    this.module = module;
    this.d = d;
    double e = 0;
    for (double x : d.data()) {
      e += x * x;
    }
    if (!Double.isFinite(e)) {
      throw new ArgumentException("Displacement of module '" + module + "' holds a non-finite value");
    }
    this.energy = e;
  }

  /** {@code W_aligned − W_base}, both read as float64. */
  public static Displacement between(String module, DenseMatrix base, DenseMatrix aligned) {
    if (base.rows() != aligned.rows() || base.cols() != aligned.cols()) {
      throw new ArgumentException("Module '" + module + "': base weight has shape " + base.shapeString()
          + " but aligned weight " + aligned.shapeString());
    }
    DenseMatrix d = aligned.copy();
    double[] x = d.data();
    double[] y = base.data();
    for (int i = 0; i < x.length; i++) {
      x[i] -= y[i];
    }
    return new Displacement(module, d);
  }

  public String module() {
    return module;
  }

  /** D itself (out×in); callers only read it. */
  public DenseMatrix matrix() {
    return d;
  }

  /** ‖D‖_F². */
  public double energy() {
    return energy;
  }

  public int out() {
    return d.rows();
  }

  public int in() {
    return d.cols();
  }

  /** The dominant subspaces for {@code options}, computed once. */
  public EnergySubspace subspace(EnergySubspace.Options options) {
    EnergySubspace s = subspaces.get(options);
    if (s == null) {
      s = EnergySubspace.of(io.loraspace.common.linalg.LinearOperator.of(d), energy, options);
      subspaces.put(options, s);
      computed++;
    }
    return s;
  }

  /** How many subspaces were computed (not served from the cache). */
  public int subspacesComputed() {
    return computed;
  }
}
