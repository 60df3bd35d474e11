package io.loraspace.jobs.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository checkout the tests run in, and the Python interpreter of the interop tests. */
public final class Repo {
  private Repo() {}

  /** The repository root: the first directory above the working directory holding {@code scripts/python}. */
  public static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("scripts/python"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("repository root not found above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  /**
   * {@code $LORASPACE_PYTHON}, else the project venv; a missing interpreter fails the test (interop tests are never
   * skipped).
   */
  public static Path python() {
    String env = System.getenv("LORASPACE_PYTHON");
    Path p = env != null && !env.isEmpty() ? Path.of(env) : root().resolve(".venv/bin/python");
    if (!Files.isExecutable(p)) {
      throw new AssertionError("Python interpreter " + p + " not found: run scripts/setup-python.sh (interop tests "
          + "are never skipped)");
    }
    return p;
  }
}
