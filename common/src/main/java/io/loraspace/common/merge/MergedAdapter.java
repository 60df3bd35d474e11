package io.loraspace.common.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.io.peft.AdapterConfig;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import java.util.List;

/**
 * One PEFT adapter that applies {@code Σ α_i s_i B_i A_i} to a module: the ranks concatenated,
 * {@code A = [A_1; …; A_N]} (Σr_i × in) and {@code B = [α_1 s_1 B_1, …, α_N s_N B_N]} (out × Σr_i), with
 * {@code r = lora_alpha = Σ r_i} and no rslora, so PEFT's scale is 1 and {@code s·B·A} is the merged update exactly
 * (in float64; up to the dtype it is stored in).
 */
public final class MergedAdapter {
  private MergedAdapter() {}

  /**
   * @param adapters the N adapters (their config's scaling for {@code module} is folded in)
   * @param alpha the N coefficients
   */
  public static LoraAdapter build(List<LoraAdapter> adapters, String module, double[] alpha) {
    if (adapters.isEmpty() || adapters.size() != alpha.length) {
      throw new ArgumentException(adapters.size() + " adapters and " + alpha.length + " coefficients: expected one "
          + "coefficient per adapter, at least one adapter");
    }
    int total = 0;
    int in = adapters.get(0).factors(module).in();
    int out = adapters.get(0).factors(module).out();
    for (LoraAdapter a : adapters) {
      LoraAdapter.Factors f = a.factors(module);
      if (f.in() != in || f.out() != out) {
        throw new ArgumentException("Module '" + module + "': adapters disagree on its shape ([" + out + ", " + in
            + "] and [" + f.out() + ", " + f.in() + "])");
      }
      total += f.rank();
    }
    DenseMatrix a = DenseMatrix.zeros(total, in);
    DenseMatrix b = DenseMatrix.zeros(out, total);
    int off = 0;
    for (int i = 0; i < adapters.size(); i++) {
      LoraAdapter ad = adapters.get(i);
      LoraAdapter.Factors f = ad.factors(module);
      double w = alpha[i] * ad.config().scaling(module);
      int r = f.rank();
      for (int l = 0; l < r; l++) {
        for (int j = 0; j < in; j++) {
          a.data()[(off + l) + j * total] = f.a().data()[l + j * r];
        }
        for (int k = 0; k < out; k++) {
          b.data()[k + (off + l) * out] = w * f.b().data()[k + l * out];
        }
      }
      off += r;
    }
    AdapterConfig first = adapters.get(0).config();
    AdapterConfig config = AdapterConfig.lora(total, total, List.of(module));
    if (first.baseModelNameOrPath() != null) {
      config.setBaseModelNameOrPath(first.baseModelNameOrPath());
    }
    if (first.taskType() != null) {
      config.setTaskType(first.taskType());
    }
    return new LoraAdapter(config).put(module, a, b);
  }
}
