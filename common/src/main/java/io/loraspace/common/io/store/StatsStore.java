package io.loraspace.common.io.store;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.safetensors.SafetensorsWriter;
import io.loraspace.common.stats.CrossProductAccumulator;
import io.loraspace.common.stats.DiagonalSecondMomentAccumulator;
import io.loraspace.common.stats.SampleGramAccumulator;
import io.loraspace.common.stats.TokenGramAccumulator;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The statistics store written by the {@code stats} job and read by {@code init}: one safetensors file of F64 tensors
 * per key, counts in {@code __metadata__}, and {@code store.json} indexing the keys. It needs none of our code to read
 * (docs/stats-store.md).
 *
 * <pre>
 * store.json
 * sites/&lt;dataset&gt;/&lt;site&gt;.safetensors       token_gram [d,d]  Σ x xᵀ over tokens
 *                                          token_sum [d]     Σ x
 *                                          sample_gram [d,d] Σ_s x̂ x̂ᵀ, x̂ = Σ_{tokens of s} x
 *                                          sample_sum [d]    Σ_s x̂
 *                                          sample_token_weighted_sum [d]  Σ_s T_s x̂
 * modules/&lt;dataset&gt;/&lt;module&gt;.safetensors   grad_input_cross [out,in]  Σ g xᵀ over tokens
 *                                          grad_sq_sum [out]          Σ g∘g over tokens
 * </pre>
 *
 * Metadata of site files: token_count, sample_count, sum_tokens_squared (Σ_s T_s²), dim, dataset, site, modules (JSON
 * list). Module files: token_count, sample_count, out, in, dataset, module, site.
 */
public final class StatsStore {
  private StatsStore() {}

  public static final String FORMAT = "loraspace-stats-store";
  public static final int VERSION = 1;
  public static final String INDEX = "store.json";

  public static final String META_FORMAT = "loraspace.store";
  public static final String META_VERSION = "loraspace.store.version";

  public static final String TOKEN_GRAM = "token_gram";
  public static final String TOKEN_SUM = "token_sum";
  public static final String SAMPLE_GRAM = "sample_gram";
  public static final String SAMPLE_SUM = "sample_sum";
  public static final String SAMPLE_TOKEN_WEIGHTED_SUM = "sample_token_weighted_sum";
  public static final String GRAD_INPUT_CROSS = "grad_input_cross";
  public static final String GRAD_SQ_SUM = "grad_sq_sum";

  /** Relative path of a site's file. */
  public static String siteFile(String dataset, String site) {
    return "sites/" + fileSafe(dataset) + "/" + fileSafe(site) + ".safetensors";
  }

  /** Relative path of a module's file. */
  public static String moduleFile(String dataset, String module) {
    return "modules/" + fileSafe(dataset) + "/" + fileSafe(module) + ".safetensors";
  }

  /**
   * A name usable as one path component on every file system: letters, digits, '.', '_', '-' kept, anything else
   * (and a leading '.') percent-encoded as UTF-8 bytes.
   */
  public static String fileSafe(String name) {
    StringBuilder sb = new StringBuilder();
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xFF;
      boolean ok = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_'
          || b == '-' || (b == '.' && i > 0);
      if (ok) {
        sb.append((char) b);
      } else {
        sb.append('%').append(String.format("%02X", b));
      }
    }
    if (sb.length() == 0) {
      throw new FormatException("Empty name cannot be a store key");
    }
    return sb.toString();
  }

  private static Map<String, String> baseMeta() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(META_FORMAT, "stats");
    m.put(META_VERSION, Integer.toString(VERSION));
    return m;
  }

  /** The file of one (dataset, site) from its token-level and sample-level accumulators. */
  public static SafetensorsWriter siteTensors(String dataset, String site, List<String> modules,
      TokenGramAccumulator tokens, SampleGramAccumulator samples) {
    int d = tokens.dim();
    if (samples.dim() != d) {
      throw new FormatException("Site '" + site + "' of dataset '" + dataset + "': token statistics have dim " + d
          + " but sample statistics " + samples.dim());
    }
    Map<String, String> m = baseMeta();
    m.put("dataset", dataset);
    m.put("site", site);
    m.put("dim", Integer.toString(d));
    m.put("token_count", Long.toString(tokens.tokenCount()));
    m.put("sample_count", Long.toString(samples.sampleCount()));
    m.put("sum_tokens_squared", Double.toString(samples.sumTokensSquared()));
    StringBuilder mods = new StringBuilder("[");
    for (int i = 0; i < modules.size(); i++) {
      mods.append(i > 0 ? "," : "").append('"').append(modules.get(i).replace("\\", "\\\\").replace("\"", "\\\""))
          .append('"');
    }
    m.put("modules", mods.append(']').toString());
    return new SafetensorsWriter().metadata(m)
        .addSymmetricMatrix(TOKEN_GRAM, Dtype.F64, tokens.gram())
        .add(TOKEN_SUM, Dtype.F64, new long[] {d}, tokens.tokenSum())
        .addSymmetricMatrix(SAMPLE_GRAM, Dtype.F64, samples.gram())
        .add(SAMPLE_SUM, Dtype.F64, new long[] {d}, samples.sampleSum())
        .add(SAMPLE_TOKEN_WEIGHTED_SUM, Dtype.F64, new long[] {d}, samples.tokenWeightedSampleSum());
  }

  /** The file of one (dataset, module) from its gradient accumulators; {@code samples} = samples with gradients. */
  public static SafetensorsWriter moduleTensors(String dataset, String module, String site,
      CrossProductAccumulator cross, DiagonalSecondMomentAccumulator diag, long samples) {
    if (cross.outDim() != diag.dim()) {
      throw new FormatException("Module '" + module + "' of dataset '" + dataset + "': cross product has out dim "
          + cross.outDim() + " but the gradient diagonal " + diag.dim());
    }
    Map<String, String> m = baseMeta();
    m.put("dataset", dataset);
    m.put("module", module);
    m.put("site", site);
    m.put("out", Integer.toString(cross.outDim()));
    m.put("in", Integer.toString(cross.inDim()));
    m.put("token_count", Long.toString(cross.tokenCount()));
    m.put("sample_count", Long.toString(samples));
    return new SafetensorsWriter().metadata(m)
        .addMatrix(GRAD_INPUT_CROSS, Dtype.F64, cross.crossProduct())
        .add(GRAD_SQ_SUM, Dtype.F64, new long[] {diag.dim()}, diag.sumSquares());
  }
}
