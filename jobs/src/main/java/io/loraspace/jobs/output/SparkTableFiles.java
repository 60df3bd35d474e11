package io.loraspace.jobs.output;

import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Tables a job writes with Spark's DataFrame writer get part files named after the write job's random UUID
 * ({@code part-00000-<uuid>-c000.snappy.parquet}), so the same result has other file names on every run. Renamed to
 * {@code part-00000.snappy.parquet} (partition number and codec kept) inside staging, they are the same files with the
 * same bytes run after run, and the manifest's checksums identify the result.
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
      }
    }
  }
}
