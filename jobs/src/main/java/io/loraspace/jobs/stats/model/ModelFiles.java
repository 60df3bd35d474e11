package io.loraspace.jobs.stats.model;

import io.loraspace.common.error.ArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Where a worker finds the model: a local or NFS directory is used in place; a directory on another Hadoop file system
 * (hdfs://, s3a://) is copied once per machine into {@code java.io.tmpdir/loraspace-models/<hash of the URI>}, through
 * a temporary directory renamed when complete, so concurrent executors on one machine never read a partial copy.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** The local directory of {@code uri}, fetching it first when it is remote. */
  public static synchronized String localize(Configuration conf, String uri) throws IOException {
    Path p = new Path(uri);
    String scheme = p.toUri().getScheme();
    if (scheme == null || scheme.equals("file")) {
      return p.toUri().getPath();
    }
    java.nio.file.Path cache = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "loraspace-models",
        sha(uri));
    if (Files.isRegularFile(cache.resolve(".complete"))) {
      return cache.toString();
    }
    FileSystem fs = p.getFileSystem(conf);
    if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) {
      throw new ArgumentException("Option 'model' is '" + uri + "', which is not a directory");
    }
    java.nio.file.Path tmp = Files.createDirectories(cache.getParent())
        .resolve(cache.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    Files.createDirectories(tmp);
    String prefix = fs.makeQualified(p).toUri().getPath();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(p, true);
    while (it.hasNext()) {
      Path f = it.next().getPath();
      java.nio.file.Path target = tmp.resolve(f.toUri().getPath().substring(prefix.length() + 1));
      Files.createDirectories(target.getParent());
      fs.copyToLocalFile(false, f, new Path(target.toUri()), true);
    }
    Files.writeString(tmp.resolve(".complete"), uri, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, cache, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (!Files.isRegularFile(cache.resolve(".complete"))) {
        throw e;
      }
      // another executor on this machine finished first: use its copy
    }
    return cache.toString();
  }

  private static String sha(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)))
          .substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
