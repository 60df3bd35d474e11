package io.loraspace.common.io.activations;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import java.util.List;

/**
 * Names and version of the activation/gradient data contract (docs/data-contract.md). Version 1: Parquet, one row per
 * (dataset, sample, site, block), blocks of T tokens × d values in little-endian binary columns.
 */
public final class ActivationContract {
  private ActivationContract() {}

  public static final String NAME = "activations";
  public static final int VERSION = 1;

  /** Footer key-value metadata keys. */
  public static final String META_CONTRACT = "loraspace.contract";
  public static final String META_VERSION = "loraspace.contract.version";
  public static final String META_PRODUCER = "loraspace.producer";
  public static final String META_SITES = "loraspace.sites";

  /** Column names. */
  public static final String DATASET = "dataset";
  public static final String SAMPLE = "sample";
  public static final String BLOCK = "block";
  public static final String SITE = "site";
  public static final String MODULES = "modules";
  public static final String TOKENS = "tokens";
  public static final String DIM = "dim";
  public static final String DTYPE = "dtype";
  public static final String INPUT = "input";
  public static final String GRADS = "grads";
  public static final String GRAD_MODULE = "module";
  public static final String GRAD_DIM = "dim";
  public static final String GRAD_DATA = "data";

  /** Element types a block may use. */
  public static final List<Dtype> BLOCK_DTYPES = List.of(Dtype.F32, Dtype.BF16, Dtype.F16);

  /** The Parquet schema of version 1 (standard three-level LIST encoding, as pyarrow writes it). */
  public static final String PARQUET_SCHEMA = "message loraspace_activations_v1 {\n"
      + "  required binary dataset (STRING);\n"
      + "  required int64 sample;\n"
      + "  required int32 block;\n"
      + "  required binary site (STRING);\n"
      + "  required group modules (LIST) {\n"
      + "    repeated group list {\n"
      + "      required binary element (STRING);\n"
      + "    }\n"
      + "  }\n"
      + "  required int32 tokens;\n"
      + "  required int32 dim;\n"
      + "  required binary dtype (STRING);\n"
      + "  required binary input;\n"
      + "  optional group grads (LIST) {\n"
      + "    repeated group list {\n"
      + "      required group element {\n"
      + "        required binary module (STRING);\n"
      + "        required int32 dim;\n"
      + "        required binary data;\n"
      + "      }\n"
      + "    }\n"
      + "  }\n"
      + "}\n";

  /** Parses a block dtype name; anything but F32, BF16, F16 fails naming where it was found. */
  public static Dtype blockDtype(String name, String where) {
    Dtype d = Dtype.parse(name, where);
    if (!BLOCK_DTYPES.contains(d)) {
      throw new FormatException(where + ": block dtype " + d + " is not allowed (contract v1: F32, BF16, F16)");
    }
    return d;
  }

  /** Checks the footer's contract name and version; {@code file} names the file in errors. */
  public static void checkFooter(String file, String contract, String version) {
    if (contract == null || !contract.equals(NAME)) {
      throw new FormatException(file + ": footer metadata " + META_CONTRACT + " is " + (contract == null ? "missing"
          : "'" + contract + "'") + ", expected '" + NAME + "' (not a loraspace activation file)");
    }
    if (version == null || !version.equals(Integer.toString(VERSION))) {
      throw new FormatException(file + ": contract version " + (version == null ? "missing" : "'" + version + "'")
          + " is not supported (this build reads version " + VERSION + ")");
    }
  }
}
