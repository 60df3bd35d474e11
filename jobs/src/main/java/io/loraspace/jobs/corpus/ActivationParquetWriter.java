package io.loraspace.jobs.corpus;

import io.loraspace.common.io.activations.ActivationContract;
import io.loraspace.common.io.activations.ActivationRow;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * Writes one Parquet file of the activation contract v1 through any Hadoop file system, with the contract name and
 * version in the footer. Rows are written in the order given (the contract asks producers for (dataset, sample, site,
 * block) order within a file).
 */
public final class ActivationParquetWriter implements AutoCloseable {
  static final MessageType SCHEMA = MessageTypeParser.parseMessageType(ActivationContract.PARQUET_SCHEMA);

  private final ParquetWriter<Group> writer;
  private final SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
  private long rows;
  private long payloadBytes;

  /**
   * @param producer recorded as {@code loraspace.producer}
   * @param sitesJson optional {@code loraspace.sites} JSON (null to omit)
   */
  public ActivationParquetWriter(Configuration conf, Path file, long rowGroupBytes, String producer, String sitesJson)
      throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put(ActivationContract.META_CONTRACT, ActivationContract.NAME);
    meta.put(ActivationContract.META_VERSION, Integer.toString(ActivationContract.VERSION));
    meta.put(ActivationContract.META_PRODUCER, producer);
    if (sitesJson != null) {
      meta.put(ActivationContract.META_SITES, sitesJson);
    }
    writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, conf))
        .withType(SCHEMA)
        .withExtraMetaData(meta)
        .withCompressionCodec(CompressionCodecName.UNCOMPRESSED)
        .withRowGroupSize(rowGroupBytes)
        .withDictionaryEncoding(ActivationContract.INPUT, false)
        .withWriteMode(ParquetFileWriter.Mode.CREATE)
        .build();
  }

  public void write(ActivationRow row) throws IOException {
    Group g = groups.newGroup()
        .append(ActivationContract.DATASET, row.dataset())
        .append(ActivationContract.SAMPLE, row.sample())
        .append(ActivationContract.BLOCK, row.block())
        .append(ActivationContract.SITE, row.site());
    Group mods = g.addGroup(ActivationContract.MODULES);
    for (String m : row.modules()) {
      mods.addGroup("list").append("element", m);
    }
    g.append(ActivationContract.TOKENS, row.tokens())
        .append(ActivationContract.DIM, row.dim())
        .append(ActivationContract.DTYPE, row.dtype().name())
        .append(ActivationContract.INPUT, Binary.fromConstantByteArray(row.input()));
    payloadBytes += row.input().length;
    if (!row.grads().isEmpty()) {
      Group grads = g.addGroup(ActivationContract.GRADS);
      for (ActivationRow.GradBlock gb : row.grads()) {
        grads.addGroup("list").addGroup("element")
            .append(ActivationContract.GRAD_MODULE, gb.module())
            .append(ActivationContract.GRAD_DIM, gb.dim())
            .append(ActivationContract.GRAD_DATA, Binary.fromConstantByteArray(gb.data()));
        payloadBytes += gb.data().length;
      }
    }
    writer.write(g);
    rows++;
  }

  public long rows() {
    return rows;
  }

  /** Bytes of block payload written (inputs and gradients). */
  public long payloadBytes() {
    return payloadBytes;
  }

  @Override
  public void close() throws IOException {
    writer.close();
  }
}
