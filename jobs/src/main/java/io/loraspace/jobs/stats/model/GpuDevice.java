package io.loraspace.jobs.stats.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Which torch device a model worker uses, from the GPU addresses Spark assigned to the task
 * ({@code TaskContext.resources().get("gpu").addresses()}) and the executor's {@code CUDA_VISIBLE_DEVICES}.
 *
 * <p>Spark's addresses are what the executor's discovery script reported. When the executor process already sees a
 * restricted set ({@code CUDA_VISIBLE_DEVICES=2,3}), an address that is one of those physical ids maps to its position
 * in the list ({@code 3 → cuda:1}), which is the ordinal torch sees; an address that is not in the list is taken as
 * an ordinal already. Without an assigned GPU the worker runs on the CPU.
 */
public final class GpuDevice {
  private GpuDevice() {}

  /**
   * @param addresses GPU addresses of the task, empty when none
   * @param cudaVisibleDevices the executor's {@code CUDA_VISIBLE_DEVICES}, or null
   * @return {@code cpu} or {@code cuda:<ordinal>}
   */
  public static String forTask(List<String> addresses, String cudaVisibleDevices) {
    if (addresses == null || addresses.isEmpty()) {
      return "cpu";
    }
    String address = addresses.get(0).trim();
    List<String> visible = new ArrayList<>();
    if (cudaVisibleDevices != null && !cudaVisibleDevices.isBlank()) {
      for (String v : cudaVisibleDevices.split(",")) {
        visible.add(v.trim());
      }
    }
    int position = visible.indexOf(address);
    if (position >= 0) {
      return "cuda:" + position;
    }
    try {
      return "cuda:" + Integer.parseInt(address);
    } catch (NumberFormatException e) {
      throw new io.loraspace.common.error.ArgumentException("GPU address '" + address + "' assigned by Spark is "
          + "neither an ordinal nor one of CUDA_VISIBLE_DEVICES=" + cudaVisibleDevices);
    }
  }
}
