package io.loraspace.jobs.output;

import io.loraspace.common.error.StateException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.ColumnMetaData;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.PageEncodingStats;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;

/**
 * Tables a job writes with Spark's DataFrame writer differ from run to run in two ways that are not the result: part
 * files are named after the write job's random UUID ({@code part-00000-<uuid>-c000.snappy.parquet}), and parquet-mr
 * records each column chunk's encodings (and encoding statistics) in the iteration order of a hash set, which changes
 * from JVM to JVM. Inside staging, parts are renamed to {@code part-00000.snappy.parquet} (partition number and codec
 * kept) and each footer's encoding lists are sorted, so the same table is the same bytes run after run, and the
 * manifest's checksums identify the result.
 */
public final class SparkTableFiles {
  private static final Pattern PART = Pattern.compile("part-(\\d+)-[0-9a-fA-F-]{36}(?:-c\\d+)?(\\..+)");

  private SparkTableFiles() {}

  /** Renames the part files directly under {@code table} to their run-independent names. */
  public static void canonicalNames(FileSystem fs, Path table) throws IOException {
    FileStatus[] files = fs.listStatus(table);
    Arrays.sort(files, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
    for (FileStatus st : files) {
      Matcher m = PART.matcher(st.getPath().getName());
      if (st.isFile() && m.matches()) {
        Path target = new Path(table, "part-" + m.group(1) + m.group(2));
        if (fs.exists(target) || !fs.rename(st.getPath(), target)) {
          throw new StateException("Cannot rename '" + st.getPath() + "' to '" + target + "'");
        }
        canonicalFooter(fs, target);
      }
    }
  }

  /**
   * Rewrites a Parquet file's footer with every column chunk's {@code encodings} sorted by value and its
   * {@code encoding_stats} by (page type, encoding); pages are not touched. For the small tables jobs write (the file
   * is read whole).
   */
  static void canonicalFooter(FileSystem fs, Path file) throws IOException {
    byte[] all;
    try (InputStream in = fs.open(file)) {
      all = in.readAllBytes();
    }
    int n = all.length;
    if (n < 12 || !new String(all, n - 4, 4, StandardCharsets.US_ASCII).equals("PAR1")) {
      throw new StateException("'" + file + "' is not a Parquet file (no PAR1 trailer)");
    }
    int footerLength = ByteBuffer.wrap(all, n - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int footerStart = n - 8 - footerLength;
    FileMetaData meta = Util.readFileMetaData(new ByteArrayInputStream(all, footerStart, footerLength));
    for (RowGroup rg : meta.getRow_groups()) {
      for (ColumnChunk cc : rg.getColumns()) {
        ColumnMetaData cm = cc.getMeta_data();
        cm.getEncodings().sort(Comparator.comparingInt(Encoding::getValue));
        if (cm.isSetEncoding_stats()) {
          cm.getEncoding_stats().sort(Comparator.comparingInt((PageEncodingStats e) -> e.getPage_type().getValue())
              .thenComparingInt(e -> e.getEncoding().getValue()));
        }
      }
    }
    ByteArrayOutputStream footer = new ByteArrayOutputStream();
    Util.writeFileMetaData(meta, footer);
    try (OutputStream out = fs.create(file, true)) {
      out.write(all, 0, footerStart);
      footer.writeTo(out);
      out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(footer.size()).array());
      out.write("PAR1".getBytes(StandardCharsets.US_ASCII));
    }
  }
}
