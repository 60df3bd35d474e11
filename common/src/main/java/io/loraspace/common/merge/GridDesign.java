package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How the validation grid of coefficient vectors α ∈ (lo, hi]^N is laid out. Designs are values registered in
 * {@link #all()}; points are row-major, N coordinates each, deterministic given the arguments.
 */
public interface GridDesign {
  /** Kebab-case name, used in options and reports. */
  String name();

  String description();

  /** How many points {@link #points} gives for N adapters and {@code size}. */
  long count(int adapters, int size);

  /** The points, row-major (point p, adapter i at {@code p·N + i}). */
  double[] points(int adapters, double lo, double hi, int size, long seed);

  /**
   * The full lattice: {@code size} values per axis, {@code lo + (hi − lo)·(j + 1)/size} for j = 0..size−1 (so
   * {@code lo} itself is excluded and {@code hi} included: the paper's 50×50 lattice of (0, 1]² is lo = 0, hi = 1,
   * size = 50); {@code size^N} points, the first adapter's coordinate varying slowest.
   */
  GridDesign LATTICE = new GridDesign() {
    @Override
    public String name() {
      return "lattice";
    }

    @Override
    public String description() {
      return "grid-size values per adapter, every combination (grid-size^N points)";
    }

    @Override
    public long count(int adapters, int size) {
      long n = 1;
      for (int i = 0; i < adapters; i++) {
        n = Math.multiplyExact(n, size);
      }
      return n;
    }

    @Override
    public double[] points(int adapters, double lo, double hi, int size, long seed) {
      int n = Math.toIntExact(count(adapters, size));
      double[] out = new double[Math.multiplyExact(n, adapters)];
      for (int p = 0; p < n; p++) {
        int rest = p;
        for (int i = adapters - 1; i >= 0; i--) {
          int j = rest % size;
          rest /= size;
          out[p * adapters + i] = lo + (hi - lo) * (j + 1) / size;
        }
      }
      return out;
    }
  };

  /** {@code size} points drawn uniformly from (lo, hi]^N with the given seed. */
  GridDesign RANDOM = new GridDesign() {
    @Override
    public String name() {
      return "random";
    }

    @Override
    public String description() {
      return "grid-size points drawn uniformly from the box (seeded)";
    }

    @Override
    public long count(int adapters, int size) {
      return size;
    }

    @Override
    public double[] points(int adapters, double lo, double hi, int size, long seed) {
      SplittableRandom rnd = new SplittableRandom(seed);
      double[] out = new double[Math.multiplyExact(size, adapters)];
      for (int k = 0; k < out.length; k++) {
        out[k] = hi - (hi - lo) * rnd.nextDouble();
      }
      return out;
    }
  };

  static List<GridDesign> all() {
    return List.of(LATTICE, RANDOM);
  }

  static List<String> names() {
    List<String> out = new ArrayList<>();
    all().forEach(d -> out.add(d.name()));
    return out;
  }

  /** The design named {@code name}; an unknown name fails listing the known ones. */
  static GridDesign get(String name) {
    for (GridDesign d : all()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new ArgumentException("Unknown grid design '" + name + "' (known: " + names() + ")");
  }
}
