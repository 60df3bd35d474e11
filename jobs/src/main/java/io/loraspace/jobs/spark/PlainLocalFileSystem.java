package io.loraspace.jobs.spark;

import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.LocalFileSystem;

/**
 * Hadoop's local file system without the {@code .crc} side files next to every output file (users read our outputs
 * with other tools; the manifest carries SHA-256 checksums instead). Still a {@link LocalFileSystem}, which s3a's
 * buffer handling requires.
 */
public final class PlainLocalFileSystem extends LocalFileSystem {
  @Override
  public void initialize(URI name, Configuration conf) throws IOException {
    super.initialize(name, conf);
    setWriteChecksum(false);
  }
}
