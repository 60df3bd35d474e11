package io.loraspace.jobs.corpus;

import io.loraspace.common.error.FormatException;
import io.loraspace.common.io.Dtype;
import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.activations.ActivationRow;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Reads the rows of one activation-contract Parquet file (written by us or by the Python capture hook). The footer's
 * contract name and version are checked on open; every row is validated ({@link ActivationRow#validate}) with the file
 * and row index in error messages. Columns not needed are not read: {@code readGrads = false} skips the gradient
 * payloads, {@code readInput = false} the input payloads.
 */
public final class ActivationParquetReader implements AutoCloseable {
  private final String file;
  private final ParquetReader<Group> reader;
  private final Map<String, String> footer;
  private final long rowCount;
  private long rowIndex = -1;

  private ActivationParquetReader(String file, ParquetReader<Group> reader, Map<String, String> footer,
      long rowCount) {
    this.file = file;
    this.reader = reader;
    this.footer = footer;
    this.rowCount = rowCount;
  }

  public static ActivationParquetReader open(Configuration conf, Path path, boolean readInput, boolean readGrads)
      throws IOException {
    return open(conf, path, readInput, readGrads, readGrads);
  }

  /**
   * Like {@link #open(Configuration, Path, boolean, boolean)}; with {@code readGrads} and not
   * {@code readGradPayload}, gradient entries come back with their module and dim but no data (a metadata scan).
   */
  public static ActivationParquetReader open(Configuration conf, Path path, boolean readInput, boolean readGrads,
      boolean readGradPayload) throws IOException {
    String label = path.toString();
    MessageType fileSchema;
    Map<String, String> kv;
    long count;
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
      kv = r.getFooter().getFileMetaData().getKeyValueMetaData();
      fileSchema = r.getFooter().getFileMetaData().getSchema();
      count = r.getRecordCount();
    } catch (RuntimeException e) {
      throw new FormatException(label + ": not a readable Parquet file: " + e.getMessage(), e);
    }
    ActivationContract.checkFooter(label, kv.get(ActivationContract.META_CONTRACT),
        kv.get(ActivationContract.META_VERSION));
    for (String col : List.of(ActivationContract.DATASET, ActivationContract.SAMPLE, ActivationContract.BLOCK,
        ActivationContract.SITE, ActivationContract.MODULES, ActivationContract.TOKENS, ActivationContract.DIM,
        ActivationContract.DTYPE, ActivationContract.INPUT)) {
      if (!fileSchema.containsField(col)) {
        throw new FormatException(label + ": column '" + col + "' is missing (contract v1)");
      }
    }
    List<Type> keep = new ArrayList<>();
    for (Type t : fileSchema.getFields()) {
      if (t.getName().equals(ActivationContract.GRADS) && !readGrads) {
        continue;
      }
      if (t.getName().equals(ActivationContract.INPUT) && !readInput) {
        continue;
      }
      if (t.getName().equals(ActivationContract.GRADS) && !readGradPayload) {
        t = without(t, ActivationContract.GRAD_DATA);
      }
      keep.add(t);
    }
    MessageType projection = new MessageType(fileSchema.getName(), keep);
    Configuration c = new Configuration(conf);
    c.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
    ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), path).withConf(c).build();
    return new ActivationParquetReader(label, reader, kv, count);
  }

  /** {@code type} with every nested field named {@code field} removed (for projections inside lists of structs). */
  private static Type without(Type type, String field) {
    if (type.isPrimitive()) {
      return type;
    }
    org.apache.parquet.schema.GroupType g = type.asGroupType();
    List<Type> fields = new ArrayList<>();
    for (Type f : g.getFields()) {
      if (!f.getName().equals(field)) {
        fields.add(without(f, field));
      }
    }
    return g.withNewFields(fields);
  }

  public Map<String, String> footer() {
    return footer;
  }

  public long rowCount() {
    return rowCount;
  }

  /** Index (0-based) of the row last returned by {@link #next}. */
  public long rowIndex() {
    return rowIndex;
  }

  public String file() {
    return file;
  }

  /** Which rows a reader copies the payloads of: by dataset, site and the modules that read the site. */
  public interface RowFilter {
    boolean wants(String dataset, String site, List<String> modules);
  }

  /**
   * Copies the input and gradient bytes only of rows {@code wanted} accepts; other rows come back with their byte
   * lengths checked but without payloads (null {@link ActivationRow#input()} and gradient data). A statistics task that
   * owns some of a file's sites skips the copy of every other site's activations.
   */
  public ActivationParquetReader payloadsOnlyFor(RowFilter wanted) {
    this.wanted = wanted;
    return this;
  }

  private RowFilter wanted;

  /** The next row, validated, or null at the end of the file. */
  public ActivationRow next() throws IOException {
    Group g = reader.read();
    if (g == null) {
      return null;
    }
    rowIndex++;
    String where = file + " row " + rowIndex;
    Dtype dtype = ActivationContract.blockDtype(g.getString(ActivationContract.DTYPE, 0), where);
    List<String> modules = new ArrayList<>();
    Group mods = g.getGroup(ActivationContract.MODULES, 0);
    int nm = mods.getFieldRepetitionCount(0);
    for (int i = 0; i < nm; i++) {
      modules.add(mods.getGroup(0, i).getString(0, 0));
    }
    String dataset = g.getString(ActivationContract.DATASET, 0);
    String site = g.getString(ActivationContract.SITE, 0);
    int tokens = g.getInteger(ActivationContract.TOKENS, 0);
    int dim = g.getInteger(ActivationContract.DIM, 0);
    Group gradList = g.getType().containsField(ActivationContract.GRADS)
        && g.getFieldRepetitionCount(ActivationContract.GRADS) > 0 ? g.getGroup(ActivationContract.GRADS, 0) : null;
    boolean copy = wanted == null;
    if (!copy) {
      // The modules that read the site and those with gradient blocks in the row (the same, in a valid file).
      List<String> readers = new ArrayList<>(modules);
      for (int i = 0; gradList != null && i < gradList.getFieldRepetitionCount(0); i++) {
        readers.add(gradList.getGroup(0, i).getGroup(0, 0).getString(ActivationContract.GRAD_MODULE, 0));
      }
      copy = wanted.wants(dataset, site, readers);
    }
    // A skipped row keeps its payloads only when their lengths are wrong, so that validate() names the row as before.
    byte[] input = null;
    if (g.getType().containsField(ActivationContract.INPUT)) {
      org.apache.parquet.io.api.Binary b = g.getBinary(ActivationContract.INPUT, 0);
      if (copy || b.length() != (long) tokens * dim * dtype.size()) {
        input = b.getBytes();
      }
    }
    List<ActivationRow.GradBlock> grads = new ArrayList<>();
    if (gradList != null) {
      int n = gradList.getFieldRepetitionCount(0);
      for (int i = 0; i < n; i++) {
        Group el = gradList.getGroup(0, i).getGroup(0, 0);
        int gradDim = el.getInteger(ActivationContract.GRAD_DIM, 0);
        byte[] data = null;
        if (el.getType().containsField(ActivationContract.GRAD_DATA)) {
          org.apache.parquet.io.api.Binary b = el.getBinary(ActivationContract.GRAD_DATA, 0);
          if (copy || b.length() != (long) tokens * gradDim * dtype.size()) {
            data = b.getBytes();
          }
        }
        grads.add(new ActivationRow.GradBlock(el.getString(ActivationContract.GRAD_MODULE, 0), gradDim, data));
      }
    }
    ActivationRow row = new ActivationRow(dataset, g.getLong(ActivationContract.SAMPLE, 0),
        g.getInteger(ActivationContract.BLOCK, 0), site, modules, tokens, dim, dtype, input, grads);
    row.validate(where);
    return row;
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }
}
