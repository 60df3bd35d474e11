package io.loraspace.jobs.stats.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The torch device of a model worker from Spark's GPU assignment and CUDA_VISIBLE_DEVICES. */
class GpuDeviceTest {
  @Test
  void noAssignedGpuMeansCpu() {
    assertThat(GpuDevice.forTask(List.of(), null)).isEqualTo("cpu");
    assertThat(GpuDevice.forTask(null, "0,1")).isEqualTo("cpu");
  }

  @Test
  void addressIsTheOrdinalWhenAllDevicesAreVisible() {
    assertThat(GpuDevice.forTask(List.of("3"), null)).isEqualTo("cuda:3");
    assertThat(GpuDevice.forTask(List.of("1"), "")).isEqualTo("cuda:1");
  }

  @Test
  void addressListedInCudaVisibleDevicesMapsToItsPosition() {
    assertThat(GpuDevice.forTask(List.of("3"), "2,3")).isEqualTo("cuda:1");
    assertThat(GpuDevice.forTask(List.of("2", "3"), "2, 3")).as("the first address").isEqualTo("cuda:0");
    assertThat(GpuDevice.forTask(List.of("0"), "4,5")).as("not listed: already an ordinal").isEqualTo("cuda:0");
  }

  @Test
  void uuidAddressesAreMatchedToo() {
    assertThat(GpuDevice.forTask(List.of("GPU-b2c1"), "GPU-a9f0,GPU-b2c1")).isEqualTo("cuda:1");
  }

  @Test
  void unknownNonNumericAddressIsRefused() {
    assertThatThrownBy(() -> GpuDevice.forTask(List.of("GPU-x"), "0,1")).isInstanceOf(ArgumentException.class)
        .hasMessage("GPU address 'GPU-x' assigned by Spark is neither an ordinal nor one of CUDA_VISIBLE_DEVICES=0,1");
  }
}
