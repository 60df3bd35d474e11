package io.loraspace.jobs.stats;

import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;
import scala.Tuple2;

/**
 * The map side of one statistics pass over one input file: from activation Parquet ({@link PassTask}) or from a token
 * corpus run through the model ({@link ModelPassTask}). Either emits the same records (key, tagged bytes): token Grams,
 * per-sample partial sums, cross products, gradient diagonals, gradient-sample markers and counters, which the
 * canonical reduce ({@link CanonicalMerge}) turns into the same store.
 */
interface PassMapper extends Serializable {
  Iterator<Tuple2<String, byte[]>> run(Iterator<String> files) throws IOException;
}
