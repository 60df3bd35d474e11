package io.loraspace.jobs.inputs;

import io.loraspace.common.error.ArgumentException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Expands input URIs (files, directories, globs; any Hadoop file system) into the sorted list of Parquet files they
 * name. Directories are walked recursively; names starting with '_' or '.' (markers, staging) are skipped.
 */
public final class InputFiles {
  private InputFiles() {}

  public static List<String> list(Configuration conf, List<String> inputs) throws IOException {
    return list(conf, inputs, "input");
  }

  /** As {@link #list(Configuration, List)}, naming {@code option} when it is empty. */
  public static List<String> list(Configuration conf, List<String> inputs, String option) throws IOException {
    if (inputs.isEmpty()) {
      throw new ArgumentException("Option '" + option + "' is empty: give one or more Parquet files, directories or "
          + "globs");
    }
    TreeSet<String> out = new TreeSet<>();
    for (String in : inputs) {
      Path p = new Path(in);
      FileSystem fs = p.getFileSystem(conf);
      FileStatus[] matches = fs.globStatus(p);
      if (matches == null || matches.length == 0) {
        throw new ArgumentException("Input '" + in + "' does not exist");
      }
      int before = out.size();
      for (FileStatus st : matches) {
        if (st.isDirectory()) {
          RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
          while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            if (f.isFile() && f.getPath().getName().endsWith(".parquet") && !hidden(st.getPath(), f.getPath())) {
              out.add(f.getPath().toString());
            }
          }
        } else if (!hidden(st.getPath().getParent(), st.getPath())) {
          out.add(st.getPath().toString());
        }
      }
      if (out.size() == before) {
        throw new ArgumentException("Input '" + in + "' holds no .parquet files");
      }
    }
    return new ArrayList<>(out);
  }

  /** True when any path component below {@code root} starts with '_' or '.'. */
  private static boolean hidden(Path root, Path file) {
    for (Path p = file; p != null && !p.equals(root); p = p.getParent()) {
      String n = p.getName();
      if (n.startsWith("_") || n.startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
