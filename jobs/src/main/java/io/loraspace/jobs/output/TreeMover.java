package io.loraspace.jobs.output;

import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * Moves a directory tree within one file system. Where a directory rename is atomic (local, HDFS) it is one rename;
 * on object stores (s3a and the like, where a rename is a copy of every object) it is one rename per file, in a fixed
 * order, so an interruption leaves every file either at its source or at its destination (or, between the copy and
 * the delete of one object, at both with the same bytes), which {@link OutputCommitter}'s repair relies on.
 *
 * <p>The Hadoop setting {@value #MODE_KEY} ({@code auto}, {@code atomic}, {@code per-file}) overrides the choice for
 * file systems this class does not know.
 */
final class TreeMover {
  static final String MODE_KEY = "loraspace.output.rename";
  private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs",
      "wasb", "wasbs");

  /** Called after half of the files of a per-file move. */
  interface Halfway {
    void reached() throws IOException;
  }

  private final FileSystem fs;
  private final boolean atomic;

  TreeMover(FileSystem fs, Configuration conf) {
    this.fs = fs;
    String mode = conf.get(MODE_KEY, "auto").trim().toLowerCase(Locale.ROOT);
    switch (mode) {
      case "atomic":
        atomic = true;
        break;
      case "per-file":
        atomic = false;
        break;
      case "auto":
        atomic = !OBJECT_STORES.contains(fs.getUri().getScheme());
        break;
      default:
        throw new io.loraspace.common.error.ArgumentException("Setting '" + MODE_KEY + "' is '" + mode
            + "', expected auto, atomic or per-file");
    }
  }

  boolean atomic() {
    return atomic;
  }

  /**
   * Moves {@code src} to {@code dst}, which must not exist. Per file, {@code lastName} (a file name directly under
   * {@code src}) moves last.
   */
  void move(Path src, Path dst, String lastName, Halfway halfway) throws IOException {
    if (fs.exists(dst)) {
      throw new StateException("Cannot move '" + src + "' to '" + dst + "': the destination exists");
    }
    if (atomic) {
      fs.mkdirs(dst.getParent());
      if (!fs.rename(src, dst)) {
        throw new StateException("Cannot rename '" + src + "' to '" + dst + "'");
      }
      return;
    }
    mergeInto(src, dst, lastName, halfway);
  }

  /**
   * Moves every file under {@code src} to the same relative path under {@code dst}, replacing a file already there,
   * then removes {@code src}. Works whether or not {@code dst} exists (used by repair to undo a partial move).
   */
  void mergeInto(Path src, Path dst, String lastName, Halfway halfway) throws IOException {
    if (!fs.exists(src)) {
      return;
    }
    List<Path> files = files(src, lastName);
    String prefix = fs.makeQualified(src).toUri().getPath();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      String rel = f.toUri().getPath().substring(prefix.length() + 1);
      Path target = new Path(dst, rel);
      if (fs.exists(target)) {
        fs.delete(target, false);
      }
      fs.mkdirs(target.getParent());
      if (!fs.rename(f, target)) {
        throw new StateException("Cannot rename '" + f + "' to '" + target + "'");
      }
      if (halfway != null && i + 1 == (files.size() + 1) / 2) {
        halfway.reached();
      }
    }
    fs.delete(src, true);
  }

  /** The files under {@code root}, sorted by path, {@code lastName} (if present at the top) moved to the end. */
  private List<Path> files(Path root, String lastName) throws IOException {
    List<Path> all = new ArrayList<>();
    Path last = null;
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    String top = fs.makeQualified(root).toUri().getPath();
    while (it.hasNext()) {
      Path p = it.next().getPath();
      if (lastName != null && p.getName().equals(lastName) && p.getParent().toUri().getPath().equals(top)) {
        last = p;
      } else {
        all.add(p);
      }
    }
    all.sort((a, b) -> a.toString().compareTo(b.toString()));
    if (last != null) {
      all.add(last);
    }
    return all;
  }
}
