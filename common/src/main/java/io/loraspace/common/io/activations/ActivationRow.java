package io.loraspace.common.io.activations;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import java.util.Collections;
import java.util.List;

/**
 * One row of the activation contract: the input block of one capture site for one block of a sample's tokens, and the
 * output gradients of the modules that read it over the same tokens (possibly none). Byte arrays are not copied.
 */
public final class ActivationRow {
  /** The output gradients of one module over the row's tokens: T×out, row-major little-endian. */
  public static final class GradBlock {
    private final String module;
    private final int dim;
    private final byte[] data;

    public GradBlock(String module, int dim, byte[] data) {
      this.module = module;
      this.dim = dim;
      this.data = data;
    }

    public String module() {
      return module;
    }

    public int dim() {
      return dim;
    }

    public byte[] data() {
      return data;
    }
  }

  private final String dataset;
  private final long sample;
  private final int block;
  private final String site;
  private final List<String> modules;
  private final int tokens;
  private final int dim;
  private final Dtype dtype;
  private final byte[] input;
  private final List<GradBlock> grads;

  public ActivationRow(String dataset, long sample, int block, String site, List<String> modules, int tokens, int dim,
      Dtype dtype, byte[] input, List<GradBlock> grads) {
    this.dataset = dataset;
    this.sample = sample;
    this.block = block;
    this.site = site;
    this.modules = List.copyOf(modules);
    this.tokens = tokens;
    this.dim = dim;
    this.dtype = dtype;
    this.input = input;
    this.grads = grads == null ? Collections.emptyList() : List.copyOf(grads);
  }

  public String dataset() {
    return dataset;
  }

  public long sample() {
    return sample;
  }

  public int block() {
    return block;
  }

  public String site() {
    return site;
  }

  public List<String> modules() {
    return modules;
  }

  public int tokens() {
    return tokens;
  }

  public int dim() {
    return dim;
  }

  public Dtype dtype() {
    return dtype;
  }

  /** T×d input block, row-major little-endian in {@link #dtype()}; may be null when the column was not read. */
  public byte[] input() {
    return input;
  }

  public List<GradBlock> grads() {
    return grads;
  }

  /**
   * Checks the row's invariants: T ≥ 1, d ≥ 1, block ≥ 0, sample ≥ 0, input byte length = T×d×size, every gradient
   * block's byte length = T×out×size (same tokens as the input). {@code where} names the file and row.
   */
  public void validate(String where) {
    String at = where + " (dataset '" + dataset + "', sample " + sample + ", site '" + site + "', block " + block + ")";
    if (tokens < 1) {
      throw new FormatException(at + ": tokens = " + tokens + ", expected ≥ 1");
    }
    if (dim < 1) {
      throw new FormatException(at + ": dim = " + dim + ", expected ≥ 1");
    }
    if (block < 0 || sample < 0) {
      throw new FormatException(at + ": negative sample or block index");
    }
    long want = (long) tokens * dim * dtype.size();
    if (input != null && input.length != want) {
      throw new FormatException(at + ": input block has " + input.length + " bytes, expected tokens × dim × "
          + dtype + " size = " + tokens + " × " + dim + " × " + dtype.size() + " = " + want);
    }
    for (GradBlock g : grads) {
      if (g.dim < 1) {
        throw new FormatException(at + ": gradient of module '" + g.module + "' has dim " + g.dim + ", expected ≥ 1");
      }
      long gw = (long) tokens * g.dim * dtype.size();
      if (g.data != null && g.data.length != gw) {
        long gt = g.data.length / ((long) g.dim * dtype.size());
        throw new FormatException(at + ": gradient block of module '" + g.module + "' has " + g.data.length
            + " bytes, expected tokens × " + g.dim + " × " + dtype.size() + " = " + gw
            + (g.data.length % ((long) g.dim * dtype.size()) == 0 ? " (it holds " + gt + " tokens, the input "
            + tokens + ")" : ""));
      }
    }
  }
}
