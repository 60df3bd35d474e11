package io.loraspace.jobs.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileNotFoundException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local file system the jobs use sets and reports permissions, owners and sizes as Hadoop's own
 * {@link RawLocalFileSystem} does (which runs chmod and ls per file; it is the reference here), and writes no .crc
 * files.
 */
class PlainLocalFileSystemTest {
  @TempDir
  java.nio.file.Path tmp;

  private static FileSystem plain() throws Exception {
    Configuration conf = new Configuration(false);
    conf.set("fs.file.impl", PlainLocalFileSystem.class.getName());
    conf.set("fs.file.impl.disable.cache", "true");
    FileSystem fs = FileSystem.get(java.net.URI.create("file:///"), conf);
    assertThat(fs).isInstanceOf(PlainLocalFileSystem.class);
    return fs;
  }

  @Test
  void permissionsOwnersAndListingsAgreeWithHadoopsRawLocalFileSystem() throws Exception {
    FileSystem fs = plain();
    RawLocalFileSystem reference = new RawLocalFileSystem();
    reference.initialize(java.net.URI.create("file:///"), new Configuration(false));
    Path dir = new Path(tmp.toUri().toString(), "out");
    assertThat(fs.mkdirs(new Path(dir, "sub"), new FsPermission((short) 0750))).isTrue();
    try (OutputStream os = fs.create(new Path(dir, "sub/a.bin"), new FsPermission((short) 0640), true, 4096,
        (short) 1, 1 << 20, null)) {
      os.write(new byte[1234]);
    }
    try (OutputStream os = fs.create(new Path(dir, "b.json"), true)) {
      os.write("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    fs.setPermission(new Path(dir, "b.json"), new FsPermission((short) 0604));

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("out/sub/a.bin"))))
        .isEqualTo("rw-r-----");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("out/b.json"))))
        .isEqualTo("rw----r--");
    try (var files = Files.walk(tmp)) {
      assertThat(files.filter(p -> p.getFileName().toString().endsWith(".crc"))).isEmpty();
    }

    for (String p : new String[] {"out", "out/sub", "out/sub/a.bin", "out/b.json"}) {
      Path path = new Path(tmp.toUri().toString(), p);
      FileStatus ours = fs.getFileStatus(path);
      FileStatus ref = reference.getFileStatus(path);
      assertThat(ours.getPermission()).as(p).isEqualTo(ref.getPermission());
      assertThat(ours.getOwner()).as(p).isEqualTo(ref.getOwner());
      assertThat(ours.getGroup()).as(p).isEqualTo(ref.getGroup());
      assertThat(ours.isDirectory()).as(p).isEqualTo(ref.isDirectory());
      assertThat(ours.getModificationTime()).as(p).isEqualTo(ref.getModificationTime());
      if (!ref.isDirectory()) {
        assertThat(ours.getLen()).as(p).isEqualTo(ref.getLen());
      }
      assertThat(ours.getPath()).as(p).isEqualTo(ref.getPath());
    }

    List<String> listed = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
    while (it.hasNext()) {
      LocatedFileStatus s = it.next();
      listed.add(dir.toUri().relativize(s.getPath().toUri()).getPath() + " " + s.getLen() + " " + s.getPermission());
    }
    assertThat(listed).containsExactlyInAnyOrder("sub/a.bin 1234 rw-r-----", "b.json 2 rw----r--");
    assertThat(fs.listStatus(new Path(dir, "b.json"))).hasSize(1);
    assertThatThrownBy(() -> fs.getFileStatus(new Path(dir, "missing"))).isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("missing");
  }
}
