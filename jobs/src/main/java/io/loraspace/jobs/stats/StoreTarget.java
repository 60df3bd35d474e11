package io.loraspace.jobs.stats;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.stats.Accumulator;
import io.loraspace.common.stats.AccumulatorFormat;
import io.loraspace.common.stats.CrossProductAccumulator;
import io.loraspace.common.stats.DiagonalSecondMomentAccumulator;
import io.loraspace.common.stats.SampleGramAccumulator;
import io.loraspace.common.stats.TokenGramAccumulator;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The reduce side of a statistics pass: everything one output file needs, combined record by record (Spark
 * {@code combineByKey}), so a site with millions of samples never holds more than its two d×d accumulators. For a
 * site: the token Gram and the sample Gram built from complete per-sample sums; for a module: cross product,
 * gradient diagonal and the number of samples with gradients.
 */
final class StoreTarget implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A typed record sent to a target: kind letter plus payload. */
  static final class Part implements Serializable {
    private static final long serialVersionUID = 1L;
    final char kind;
    final byte[] payload;

    Part(char kind, byte[] payload) {
      this.kind = kind;
      this.payload = payload;
    }
  }

  private final int sampleBatch;
  TokenGramAccumulator tokens;
  SampleGramAccumulator samples;
  CrossProductAccumulator cross;
  DiagonalSecondMomentAccumulator diag;
  long gradSamples;
  byte[] counters;

  StoreTarget(int sampleBatch) {
    this.sampleBatch = sampleBatch;
  }

  /** Whether records of {@code kind} are serialized accumulators ({@link #add(char, Accumulator)} takes them decoded). */
  static boolean isAccumulator(char kind) {
    return kind == StatKeys.TOKEN || kind == StatKeys.CROSS || kind == StatKeys.DIAG;
  }

  /** Adds an already decoded accumulator record (a merge of partials the reduce decoded anyway). */
  StoreTarget add(char kind, Accumulator acc) {
    switch (kind) {
      case StatKeys.TOKEN:
        tokens = mergeInto(tokens, (TokenGramAccumulator) acc);
        break;
      case StatKeys.CROSS:
        cross = mergeInto(cross, (CrossProductAccumulator) acc);
        break;
      case StatKeys.DIAG:
        diag = mergeInto(diag, (DiagonalSecondMomentAccumulator) acc);
        break;
      default:
        throw new FormatException("Statistics record kind '" + kind + "' is not an accumulator");
    }
    return this;
  }

  StoreTarget add(Part p) {
    switch (p.kind) {
      case StatKeys.TOKEN:
        return add(p.kind, AccumulatorFormat.read(p.payload, TokenGramAccumulator.class));
      case StatKeys.CROSS:
        return add(p.kind, AccumulatorFormat.read(p.payload, CrossProductAccumulator.class));
      case StatKeys.DIAG:
        return add(p.kind, AccumulatorFormat.read(p.payload, DiagonalSecondMomentAccumulator.class));
      case StatKeys.SAMPLE: {
        ByteBuffer b = ByteBuffer.wrap(p.payload).order(ByteOrder.LITTLE_ENDIAN);
        int d = (p.payload.length - 8) / 8;
        if (samples == null) {
          samples = new SampleGramAccumulator(d, sampleBatch);
        }
        double[] sum = new double[d];
        for (int j = 0; j < d; j++) {
          sum[j] = b.getDouble(8 + 8 * j);
        }
        samples.addSample(sum, 0, b.getLong(0));
        break;
      }
      case StatKeys.GRAD_SAMPLE:
        gradSamples++;
        break;
      case StatKeys.COUNTERS:
        counters = counters == null ? p.payload : PassTask.addCounters(counters, p.payload);
        break;
      default:
        throw new FormatException("Unknown statistics record kind '" + p.kind + "'");
    }
    return this;
  }

  StoreTarget merge(StoreTarget o) {
    tokens = mergeInto(tokens, o.tokens);
    samples = mergeInto(samples, o.samples);
    cross = mergeInto(cross, o.cross);
    diag = mergeInto(diag, o.diag);
    gradSamples += o.gradSamples;
    if (o.counters != null) {
      counters = counters == null ? o.counters : PassTask.addCounters(counters, o.counters);
    }
    return this;
  }

  private static <A extends Accumulator> A mergeInto(A mine, A other) {
    if (mine == null) {
      return other;
    }
    if (other != null) {
      mine.merge(other);
    }
    return mine;
  }
}
