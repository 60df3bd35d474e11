package io.loraspace.jobs.merge;

import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.FormatException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Labelled feature datasets (docs/merge.md, "Feature data"): one row per sample, a feature vector column (a Parquet
 * LIST of FLOAT or DOUBLE, as Spark's {@code array<float>} and pyarrow's {@code list<float32>} write it, or a bare
 * repeated FLOAT/DOUBLE) and an integer label column (INT32 or INT64). Other columns are ignored and not read.
 *
 * <p>{@link #check} reads only the footer: schema, row count and the label column's row-group statistics. {@link
 * Reader} yields the rows; it checks types, nulls and finiteness, and names file and row in every error.
 */
public final class FeatureParquet {
  private FeatureParquet() {}

  /** What the footer of one file says. */
  record Footer(long rows) {}

  /** How the feature column is laid out in a file. */
  private enum Layout {
    LIST, REPEATED
  }

  /** The schema {@link Writer} writes: LIST of DOUBLE (or FLOAT) features and an INT32 label. */
  static MessageType schema(String features, String label, boolean doubles) {
    return MessageTypeParser.parseMessageType("message loraspace_features {\n"
        + "  required group " + features + " (LIST) {\n"
        + "    repeated group list {\n"
        + "      required " + (doubles ? "double" : "float") + " element;\n"
        + "    }\n"
        + "  }\n"
        + "  required int32 " + label + ";\n"
        + "}");
  }

  private static Layout layout(String file, MessageType schema, String features) {
    if (!schema.containsField(features)) {
      throw new FormatException(file + ": column '" + features + "' is missing (columns: " + names(schema) + ")");
    }
    Type t = schema.getType(features);
    if (t.isPrimitive()) {
      if (t.isRepetition(Type.Repetition.REPEATED) && isReal(t)) {
        return Layout.REPEATED;
      }
    } else {
      GroupType g = t.asGroupType();
      if (g.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation
          && g.getFieldCount() == 1 && !g.getType(0).isPrimitive()
          && g.getType(0).asGroupType().getFieldCount() == 1 && g.getType(0).asGroupType().getType(0).isPrimitive()
          && isReal(g.getType(0).asGroupType().getType(0))) {
        return Layout.LIST;
      }
    }
    throw new FormatException(file + ": column '" + features + "' has type " + t.toString().trim().replaceAll("\\s+",
        " ") + ", expected a list of float or double");
  }

  private static boolean isReal(Type t) {
    PrimitiveTypeName p = t.asPrimitiveType().getPrimitiveTypeName();
    return p == PrimitiveTypeName.FLOAT || p == PrimitiveTypeName.DOUBLE;
  }

  private static void checkLabel(String file, MessageType schema, String label) {
    if (!schema.containsField(label)) {
      throw new FormatException(file + ": column '" + label + "' is missing (columns: " + names(schema) + ")");
    }
    Type t = schema.getType(label);
    if (!t.isPrimitive() || t.isRepetition(Type.Repetition.REPEATED)
        || (t.asPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.INT32
        && t.asPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.INT64)) {
      throw new FormatException(file + ": column '" + label + "' has type " + t.toString().trim() + ", expected int32 "
          + "or int64");
    }
  }

  private static List<String> names(MessageType schema) {
    List<String> out = new ArrayList<>();
    schema.getFields().forEach(f -> out.add(f.getName()));
    return out;
  }

  /**
   * Checks one file's footer: the columns exist with the right types, and where the label column has row-group
   * statistics, its values lie in [0, classes).
   */
  static Footer check(Configuration conf, Path path, String features, String label, int classes) throws IOException {
    String file = path.toString();
    try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
      MessageType schema = r.getFooter().getFileMetaData().getSchema();
      layout(file, schema, features);
      checkLabel(file, schema, label);
      long rowsBefore = 0;
      for (BlockMetaData b : r.getFooter().getBlocks()) {
        for (ColumnChunkMetaData c : b.getColumns()) {
          if (c.getPath().toDotString().equals(label)) {
            Statistics<?> st = c.getStatistics();
            if (st != null && st.hasNonNullValue()) {
              long min = ((Number) st.genericGetMin()).longValue();
              long max = ((Number) st.genericGetMax()).longValue();
              if (min < 0 || max >= classes) {
                throw new ArgumentException(file + ": label " + (min < 0 ? min : max) + " in rows " + rowsBefore
                    + ".." + (rowsBefore + b.getRowCount() - 1) + " is outside the head's classes [0, " + classes
                    + ")");
              }
            }
          }
        }
        rowsBefore += b.getRowCount();
      }
      return new Footer(r.getRecordCount());
    } catch (RuntimeException e) {
      if (e instanceof FormatException || e instanceof ArgumentException) {
        throw e;
      }
      throw new FormatException(file + ": not a readable Parquet file: " + e.getMessage(), e);
    }
  }

  /** Reads the rows of one file: label and feature vector, validated against the head's classes and dimension. */
  static final class Reader implements AutoCloseable {
    private final String file;
    private final ParquetReader<Group> reader;
    private final Layout layout;
    private final boolean doubles;
    private final boolean longLabel;
    private final String features;
    private final String label;
    private long row = -1;
    private int lastLabel;

    private Reader(String file, ParquetReader<Group> reader, Layout layout, boolean doubles, boolean longLabel,
        String features, String label) {
      this.file = file;
      this.reader = reader;
      this.layout = layout;
      this.doubles = doubles;
      this.longLabel = longLabel;
      this.features = features;
      this.label = label;
    }

    static Reader open(Configuration conf, Path path, String features, String label) throws IOException {
      String file = path.toString();
      MessageType schema;
      try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
        schema = r.getFooter().getFileMetaData().getSchema();
      } catch (RuntimeException e) {
        throw new FormatException(file + ": not a readable Parquet file: " + e.getMessage(), e);
      }
      Layout layout = layout(file, schema, features);
      checkLabel(file, schema, label);
      Type ft = schema.getType(features);
      Type element = layout == Layout.REPEATED ? ft : ft.asGroupType().getType(0).asGroupType().getType(0);
      boolean doubles = element.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.DOUBLE;
      boolean longLabel = schema.getType(label).asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64;
      MessageType projection = new MessageType(schema.getName(), List.of(ft, schema.getType(label)));
      Configuration c = new Configuration(conf);
      c.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
      ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), path).withConf(c).build();
      return new Reader(file, reader, layout, doubles, longLabel, features, label);
    }

    /** Index (from 0) of the row last read. */
    long row() {
      return row;
    }

    /** The label of the row last read. */
    int label() {
      return lastLabel;
    }

    /**
     * Reads the next row into {@code x[off .. off+dim)}; false at the end of the file. Fails naming the file and row
     * on a null, a label outside [0, classes), a vector of another length than {@code dim}, or a NaN/Inf entry.
     */
    boolean next(double[] x, int off, int dim, int classes) throws IOException {
      Group g = reader.read();
      if (g == null) {
        return false;
      }
      row++;
      String where = file + " row " + row;
      if (g.getFieldRepetitionCount(label) == 0) {
        throw new FormatException(where + ": label is null");
      }
      long y = longLabel ? g.getLong(label, 0) : g.getInteger(label, 0);
      if (y < 0 || y >= classes) {
        throw new ArgumentException(where + ": label " + y + " is outside the head's classes [0, " + classes + ")");
      }
      lastLabel = (int) y;
      Group list = layout == Layout.LIST && g.getFieldRepetitionCount(features) > 0 ? g.getGroup(features, 0) : null;
      int n = layout == Layout.REPEATED ? g.getFieldRepetitionCount(features)
          : list == null ? 0 : list.getFieldRepetitionCount(0);
      if (n != dim) {
        throw new ArgumentException(where + ": feature vector has " + n + " values, but the head's input dimension "
            + "is " + dim);
      }
      for (int j = 0; j < n; j++) {
        Group holder = layout == Layout.REPEATED ? g : list.getGroup(0, j);
        int field = layout == Layout.REPEATED ? holder.getType().getFieldIndex(features) : 0;
        int index = layout == Layout.REPEATED ? j : 0;
        if (holder.getFieldRepetitionCount(field) <= index) {
          throw new FormatException(where + ": feature " + j + " is null");
        }
        double v = doubles ? holder.getDouble(field, index) : holder.getFloat(field, index);
        if (!Double.isFinite(v)) {
          throw new FormatException(where + ": feature " + j + " is " + v + " (non-finite)");
        }
        x[off + j] = v;
      }
      return true;
    }

    @Override
    public void close() throws IOException {
      reader.close();
    }
  }

  /** Writes feature rows in the schema of {@link #schema} through any Hadoop file system. */
  static final class Writer implements AutoCloseable {
    private final ParquetWriter<Group> writer;
    private final SimpleGroupFactory groups;
    private final boolean doubles;
    private final String features;
    private final String label;

    Writer(Configuration conf, Path file, String features, String label, boolean doubles) throws IOException {
      MessageType schema = schema(features, label, doubles);
      this.groups = new SimpleGroupFactory(schema);
      this.doubles = doubles;
      this.features = features;
      this.label = label;
      this.writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, conf)).withType(schema)
          .withWriteMode(ParquetFileWriter.Mode.CREATE).build();
    }

    void write(double[] x, int off, int dim, int y) throws IOException {
      Group g = groups.newGroup();
      Group list = g.addGroup(features);
      for (int j = 0; j < dim; j++) {
        if (doubles) {
          list.addGroup("list").append("element", x[off + j]);
        } else {
          list.addGroup("list").append("element", (float) x[off + j]);
        }
      }
      g.append(label, y);
      writer.write(g);
    }

    @Override
    public void close() throws IOException {
      writer.close();
    }
  }
}
