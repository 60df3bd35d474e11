package io.loraspace.jobs.stats.model;

import io.loraspace.common.error.FormatException;
import java.io.IOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Reads a token corpus file (docs/data-contract.md, "Token corpus"): one row per sample with {@code dataset}
 * (string), {@code sample} (int64) and {@code input_ids} (list of int32), footer {@code loraspace.contract = tokens},
 * version 1. Lists may be written with the standard three-level or the legacy two-level encoding.
 */
public final class TokenCorpusReader implements AutoCloseable {
  public static final String CONTRACT = "tokens";
  public static final String VERSION = "1";

  /** One sample. */
  public static final class Sample {
    public final String dataset;
    public final long sample;
    public final int[] ids;

    Sample(String dataset, long sample, int[] ids) {
      this.dataset = dataset;
      this.sample = sample;
      this.ids = ids;
    }
  }

  private final String file;
  private final ParquetReader<Group> reader;
  private long rowIndex = -1;

  private TokenCorpusReader(String file, ParquetReader<Group> reader) {
    this.file = file;
    this.reader = reader;
  }

  public static TokenCorpusReader open(Configuration conf, Path path) throws IOException {
    String label = path.toString();
    MessageType schema;
    Map<String, String> kv;
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
      kv = r.getFooter().getFileMetaData().getKeyValueMetaData();
      schema = r.getFooter().getFileMetaData().getSchema();
    } catch (RuntimeException e) {
      throw new FormatException(label + ": not a readable Parquet file: " + e.getMessage(), e);
    }
    String contract = kv.get("loraspace.contract");
    String version = kv.get("loraspace.contract.version");
    if (!CONTRACT.equals(contract) || !VERSION.equals(version)) {
      throw new FormatException(label + ": footer loraspace.contract is '" + contract + "' version '" + version
          + "', expected '" + CONTRACT + "' version " + VERSION + (("activations".equals(contract))
          ? " (an activation corpus: give it as option 'input', not 'tokens')" : ""));
    }
    for (String col : new String[] {"dataset", "sample", "input_ids"}) {
      if (!schema.containsField(col)) {
        throw new FormatException(label + ": column '" + col + "' is missing (token corpus v1)");
      }
    }
    ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), path).withConf(conf).build();
    return new TokenCorpusReader(label, reader);
  }

  /** Where the last row came from, for messages: {@code <file> row <i>}. */
  public String where() {
    return file + " row " + rowIndex;
  }

  /** The next sample, or null at the end. */
  public Sample next() throws IOException {
    Group g = reader.read();
    if (g == null) {
      return null;
    }
    rowIndex++;
    String dataset = g.getString("dataset", 0);
    long sample = g.getLong("sample", 0);
    int[] ids = ids(g);
    if (ids.length == 0) {
      throw new FormatException(where() + ": sample " + sample + " of dataset '" + dataset + "' has no tokens");
    }
    return new Sample(dataset, sample, ids);
  }

  private static int[] ids(Group g) {
    Group list = g.getGroup("input_ids", 0);
    int n = list.getFieldRepetitionCount(0);
    int[] out = new int[n];
    Type element = list.getType().getType(0);
    for (int i = 0; i < n; i++) {
      out[i] = element.isPrimitive() ? list.getInteger(0, i) : list.getGroup(0, i).getInteger(0, 0);
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
