package io.loraspace.jobs.inputs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Local java.nio paths for Hadoop paths: files on the local file system as they are, others copied. */
public final class LocalFiles {
  private LocalFiles() {}

  public static boolean isLocal(Path p) {
    String scheme = p.toUri().getScheme();
    return scheme == null || scheme.equals("file");
  }

  /** {@code p} itself when local, else a copy in {@code tmp} (the caller deletes tmp). */
  public static java.nio.file.Path materialize(Configuration conf, Path p, java.nio.file.Path tmp) throws IOException {
    if (isLocal(p)) {
      return java.nio.file.Path.of(p.toUri().getPath());
    }
    FileSystem fs = p.getFileSystem(conf);
    java.nio.file.Path local = Files.createTempFile(tmp, "part-", "-" + p.getName());
    try (InputStream in = fs.open(p)) {
      Files.copy(in, local, StandardCopyOption.REPLACE_EXISTING);
    }
    return local;
  }

  /** Deletes a local directory tree (or file) if it exists. */
  public static void deleteRecursively(java.nio.file.Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (java.nio.file.Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
