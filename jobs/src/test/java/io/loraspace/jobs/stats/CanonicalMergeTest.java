package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.common.stats.AccumulatorFormat;
import io.loraspace.common.stats.TokenGramAccumulator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/**
 * The canonical reduce gives the same bytes whatever order the shuffle delivers map outputs in (on a cluster, remote
 * blocks arrive in random order); merging in arrival order, as reduceByKey does, does not.
 */
class CanonicalMergeTest {
  private static final int D = 6;

  /** Map records of {@code files} input files: a token Gram of one site and the partial sums of 5 samples. */
  private static List<Tuple2<CanonicalMerge.Key, byte[]>> mapOutputs(int files, Random rnd) {
    List<Tuple2<CanonicalMerge.Key, byte[]>> out = new ArrayList<>();
    for (int f = 0; f < files; f++) {
      List<Tuple2<String, byte[]>> records = new ArrayList<>();
      TokenGramAccumulator acc = new TokenGramAccumulator(D);
      double[] x = new double[7 * D];
      for (int i = 0; i < x.length; i++) {
        x[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6) - 3);
      }
      acc.update(x, 0, 7);
      records.add(new Tuple2<>(StatKeys.key(StatKeys.TOKEN, "plus", "l0.in"),
          PassTask.tagged(StatKeys.TOKEN, AccumulatorFormat.write(acc))));
      for (int s = 0; s < 5; s++) {
        double[] sum = new double[D];
        for (int j = 0; j < D; j++) {
          sum[j] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6) - 3);
        }
        records.add(new Tuple2<>(StatKeys.key(StatKeys.SAMPLE, "plus", "l0.in", Integer.toString(s)),
            PassTask.tagged(StatKeys.SAMPLE, PassTask.encodePartial(3, sum))));
      }
      CanonicalMerge.keyed(f, records.iterator()).forEachRemaining(out::add);
    }
    return out;
  }

  /** The store bytes of the single site target. */
  private static byte[] canonical(List<Tuple2<CanonicalMerge.Key, byte[]>> delivered) throws Exception {
    List<Tuple2<CanonicalMerge.Key, byte[]>> sorted = new ArrayList<>(delivered);
    sorted.sort((a, b) -> new CanonicalMerge.Order().compare(a._1, b._1));
    List<byte[]> written = new ArrayList<>();
    Iterator<StoreFiles.Written> it = CanonicalMerge.reduce(sorted.iterator(), 2, (target, state) -> {
      byte[] t = AccumulatorFormat.write(state.tokens);
      byte[] s = AccumulatorFormat.write(state.samples);
      byte[] both = Arrays.copyOf(t, t.length + s.length);
      System.arraycopy(s, 0, both, t.length, s.length);
      written.add(both);
      return new StoreFiles.Written();
    });
    it.forEachRemaining(w -> { });
    assertThat(written).hasSize(1);
    return written.get(0);
  }

  /** The token Gram merged in delivery order (what reduceByKey did). */
  private static byte[] arrivalOrder(List<Tuple2<CanonicalMerge.Key, byte[]>> delivered) {
    byte[] merged = null;
    for (Tuple2<CanonicalMerge.Key, byte[]> r : delivered) {
      if (StatKeys.kind(r._1.record) == StatKeys.TOKEN) {
        merged = merged == null ? r._2 : StatsPipeline.mergeRecords(merged, r._2);
      }
    }
    return merged;
  }

  @Test
  void bytesDoNotDependOnDeliveryOrder() throws Exception {
    Random rnd = new Random(11);
    List<Tuple2<CanonicalMerge.Key, byte[]>> records = mapOutputs(8, rnd);
    byte[] reference = canonical(records);
    Set<String> arrival = new HashSet<>();
    for (int trial = 0; trial < 20; trial++) {
      List<Tuple2<CanonicalMerge.Key, byte[]>> shuffled = new ArrayList<>(records);
      Collections.shuffle(shuffled, rnd);
      assertThat(canonical(shuffled)).as("trial " + trial).isEqualTo(reference);
      arrival.add(Arrays.toString(arrivalOrder(shuffled)));
    }
    // The data is order-sensitive: merging in arrival order gives several different byte strings.
    assertThat(arrival).hasSizeGreaterThan(1);
  }
}
