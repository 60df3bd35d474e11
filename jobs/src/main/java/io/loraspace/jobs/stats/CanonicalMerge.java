package io.loraspace.jobs.stats;

import io.loraspace.common.stats.Accumulator;
import io.loraspace.common.stats.AccumulatorFormat;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import scala.Tuple2;

/**
 * The reduce of a statistics pass in a canonical order, so that every store file is byte-identical however the run
 * was shaped (local or cluster, any number of executors or reduce partitions, passes, retried or recomputed tasks).
 *
 * <p>Floating-point sums depend on their order. Every map record is keyed by (output file it contributes to, record
 * key, input file index) — one task reads one input file, so the index identifies the partial — and the shuffle sorts
 * by that key ({@code repartitionAndSortWithinPartitions}, partitioned by output file). The reducer then streams: the
 * partials of one record are merged in input-file order, the records of one output file are added in record-key order
 * (per-sample sums by sample key), and each output file is written as soon as its last record has passed. A reduce
 * task holds one output file's state at a time, as {@code combineByKey} did per key, and Spark's sort spills to disk.
 */
final class CanonicalMerge {
  private CanonicalMerge() {}

  /** Shuffle key: output file (a {@link StatKeys} SITE/MODULE/COUNTERS key), record key, input file index. */
  static final class Key implements Serializable {
    private static final long serialVersionUID = 1L;
    final String target;
    final String record;
    final int file;

    Key(String target, String record, int file) {
      this.target = target;
      this.record = record;
      this.file = file;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key && ((Key) o).target.equals(target) && ((Key) o).record.equals(record)
          && ((Key) o).file == file;
    }

    @Override
    public int hashCode() {
      return (target.hashCode() * 31 + record.hashCode()) * 31 + file;
    }
  }

  /** Target, then record, then input file index. */
  static final class Order implements Comparator<Key>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Key a, Key b) {
      int c = a.target.compareTo(b.target);
      if (c != 0) {
        return c;
      }
      c = a.record.compareTo(b.record);
      return c != 0 ? c : Integer.compare(a.file, b.file);
    }
  }

  /** Partitions by output file only, so all records of one file meet in one reduce task. */
  static final class ByTarget extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    ByTarget(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return Math.floorMod(((Key) key).target.hashCode(), partitions);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByTarget && ((ByTarget) o).partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /** The output file a map record contributes to. */
  static String targetOf(String recordKey) {
    char kind = StatKeys.kind(recordKey);
    if (kind == StatKeys.COUNTERS) {
      return recordKey;
    }
    String[] p = StatKeys.parts(recordKey);
    char target = (kind == StatKeys.TOKEN || kind == StatKeys.SAMPLE) ? StatKeys.SITE : StatKeys.MODULE;
    return StatKeys.key(target, p[0], p[1]);
  }

  /** The map records of the task that read input file {@code file}, keyed for the canonical shuffle. */
  static Iterator<Tuple2<Key, byte[]>> keyed(int file, Iterator<Tuple2<String, byte[]>> records) {
    List<Tuple2<Key, byte[]>> out = new ArrayList<>();
    while (records.hasNext()) {
      Tuple2<String, byte[]> r = records.next();
      out.add(new Tuple2<>(new Key(targetOf(r._1), r._1, file), r._2));
    }
    return out.iterator();
  }

  /** Writes one finished output file; returns what the driver learns of it. */
  interface TargetSink extends Serializable {
    StoreFiles.Written write(String target, StoreTarget state) throws java.io.IOException;
  }

  /**
   * Streams the sorted records of one reduce partition into output files: partials merged in file order, records
   * added in key order, each file written once complete.
   */
  static Iterator<StoreFiles.Written> reduce(Iterator<Tuple2<Key, byte[]>> sorted, int sampleBatch,
      TargetSink sink) throws java.io.IOException {
    List<StoreFiles.Written> out = new ArrayList<>();
    String target = null;
    StoreTarget state = null;
    String record = null;
    byte[] merged = null;
    // An accumulator record with two or more partials is decoded once and every further partial added to it straight
    // from its bytes, in the same order as before ((a + b) + c …: the serialized form round-trips exactly), instead
    // of decoded, merged and re-encoded per partial and decoded once more by the target. No partial is materialized:
    // at d = 1536 each was a 19 MB array, and on a VM that charges for touching fresh memory the churn cost seconds.
    Accumulator acc = null;
    while (sorted.hasNext()) {
      Tuple2<Key, byte[]> r = sorted.next();
      Key k = r._1;
      if (record != null && (!k.record.equals(record) || !k.target.equals(target))) {
        addRecord(state, merged, acc);
        record = null;
        merged = null;
        acc = null;
      }
      if (target != null && !k.target.equals(target)) {
        out.add(sink.write(target, state));
        target = null;
        state = null;
      }
      if (target == null) {
        target = k.target;
        state = new StoreTarget(sampleBatch);
      }
      if (record == null) {
        record = k.record;
        merged = r._2;
      } else if (StoreTarget.isAccumulator((char) merged[0])) {
        if (acc == null) {
          acc = AccumulatorFormat.read(merged, 1, merged.length - 1);
        }
        AccumulatorFormat.mergeInto(acc, r._2, 1, r._2.length - 1);
      } else {
        merged = StatsPipeline.mergeRecords(merged, r._2);
      }
    }
    if (record != null) {
      addRecord(state, merged, acc);
    }
    if (target != null) {
      out.add(sink.write(target, state));
    }
    return out.iterator();
  }

  /** One record's merged partials into its target: the decoded merge when there is one, else the record's bytes. */
  private static void addRecord(StoreTarget state, byte[] merged, Accumulator acc) {
    if (acc != null) {
      state.add((char) merged[0], acc);
    } else {
      state.add(new StoreTarget.Part((char) merged[0], StatsPipeline.untag(merged)));
    }
  }
}
