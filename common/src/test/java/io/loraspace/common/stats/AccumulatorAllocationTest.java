package io.loraspace.common.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.io.ActivationBlockDecoder;
import io.loraspace.common.io.ActivationBlockDecoder.NonFinitePolicy;
import io.loraspace.common.io.Dtype;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Steady-state updates and decoding allocate nothing on the Java heap (HotSpot per-thread allocation counter). */
class AccumulatorAllocationTest {

  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  @Test
  void steadyStateUpdatesAndDecodingAllocateNothing() {
    int d = 16;
    int rows = 8;
    Random rnd = new Random(1);
    double[] x = StatsTestSupport.rows(rnd, rows, d);
    double[] g = StatsTestSupport.rows(rnd, rows, d);
    byte[] f32 = new byte[rows * d * 4];
    byte[] bf16 = new byte[rows * d * 2];
    double[] decoded = new double[rows * d];
    TokenGramAccumulator token = new TokenGramAccumulator(d);
    SampleGramAccumulator sample = new SampleGramAccumulator(d, 4);
    CrossProductAccumulator cross = new CrossProductAccumulator(d, d);
    DiagonalSecondMomentAccumulator diag = new DiagonalSecondMomentAccumulator(d);
    long before = 0;
    for (int round = 0; round < 2; round++) {
      // round 0 warms up (first use allocates the sample buffer, JIT compiles); round 1 is measured
      if (round == 1) {
        before = allocatedBytes();
      }
      for (int i = 0; i < 20_000; i++) {
        token.update(x, 0, rows);
        sample.addSampleTokens(x, 0, rows);
        sample.addSample(x, d, rows);
        cross.updateSample(g, 0, x, 0, rows);
        diag.update(g, 0, rows);
        ActivationBlockDecoder.decode(f32, 0, f32.length, Dtype.F32, rows, d, decoded, 0, NonFinitePolicy.FAIL);
        ActivationBlockDecoder.decode(bf16, 0, bf16.length, Dtype.BF16, rows, d, decoded, 0, NonFinitePolicy.SKIP);
      }
    }
    long allocated = allocatedBytes() - before;
    // Any per-call allocation costs at least 16 bytes a call (≥ 320 000 bytes here); less than one byte per round
    // leaves room only for one-off JVM activity (JIT deoptimization, the management bean itself).
    assertThat(allocated).as("bytes allocated by 20 000 rounds of updates").isLessThan(20_000);
    assertThat(token.tokenCount()).isEqualTo(2 * 20_000L * rows);
  }
}
