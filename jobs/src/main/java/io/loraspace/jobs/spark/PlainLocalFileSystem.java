package io.loraspace.jobs.spark;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system without the {@code .crc} side files next to every output file (users read our outputs
 * with other tools; the manifest carries SHA-256 checksums instead), and without a process per file: where Hadoop's
 * native library is absent (the embedded launcher, most Spark distributions' local mode) its local file system runs
 * {@code chmod} for every file it creates and {@code ls -ld} for every file status a listing returns; here both go
 * through {@code java.nio} (POSIX attributes). Still a {@link LocalFileSystem}, which s3a's buffer handling requires.
 */
public final class PlainLocalFileSystem extends LocalFileSystem {
  public PlainLocalFileSystem() {
    super(new NioRawLocalFileSystem());
  }

  @Override
  public void initialize(URI name, Configuration conf) throws IOException {
    super.initialize(name, conf);
    setWriteChecksum(false);
  }

  /** {@link RawLocalFileSystem} with permissions and file statuses read and set through java.nio. */
  static final class NioRawLocalFileSystem extends RawLocalFileSystem {
    @Override
    public void setPermission(Path p, FsPermission permission) throws IOException {
      Files.setPosixFilePermissions(pathToFile(p).toPath(), posix(permission.toShort()));
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
      return status(pathToFile(f), makeQualified(f));
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
      File dir = pathToFile(f);
      FileStatus self = getFileStatus(f);
      if (!self.isDirectory()) {
        return new FileStatus[] {self};
      }
      String[] names = dir.list();
      if (names == null) {
        throw new IOException("Cannot list directory " + dir);
      }
      java.util.List<FileStatus> out = new java.util.ArrayList<>(names.length);
      for (String name : names) {
        try {
          out.add(status(new File(dir, name), makeQualified(new Path(f, name))));
        } catch (FileNotFoundException gone) {
          // Deleted between the listing and its status, as Hadoop's own listing tolerates.
        }
      }
      return out.toArray(new FileStatus[0]);
    }

    private FileStatus status(File file, Path qualified) throws IOException {
      PosixFileAttributes a;
      try {
        a = Files.readAttributes(file.toPath(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isSymbolicLink()) {
          a = Files.readAttributes(file.toPath(), PosixFileAttributes.class);
        }
      } catch (NoSuchFileException e) {
        throw new FileNotFoundException("File " + qualified + " does not exist");
      }
      return new FileStatus(a.isDirectory() ? 0 : a.size(), a.isDirectory(), 1, getDefaultBlockSize(qualified),
          a.lastModifiedTime().toMillis(), a.lastAccessTime().toMillis(), new FsPermission(bits(a.permissions())),
          a.owner().getName(), a.group().getName(), qualified);
    }

    private static final PosixFilePermission[] ORDER = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};

    static Set<PosixFilePermission> posix(short mode) {
      Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
      for (int i = 0; i < ORDER.length; i++) {
        if ((mode & (1 << i)) != 0) {
          s.add(ORDER[i]);
        }
      }
      return s;
    }

    static short bits(Set<PosixFilePermission> s) {
      int mode = 0;
      for (int i = 0; i < ORDER.length; i++) {
        if (s.contains(ORDER[i])) {
          mode |= 1 << i;
        }
      }
      return (short) mode;
    }
  }
}
