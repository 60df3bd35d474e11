package io.loraspace.common.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the reference Python implementations (safetensors, HF PEFT, transformers) from tests. The interpreter is
 * {@code $LORASPACE_PYTHON} or {@code <repo>/.venv/bin/python}; when neither exists the calling test fails (it is
 * never skipped): run {@code scripts/setup-python.sh}.
 */
public final class PythonInterop {
  private PythonInterop() {}

  /** The repository root, found by walking up from the working directory to the folder holding scripts/. */
  public static Path repoRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isDirectory(p.resolve("scripts")) && Files.isRegularFile(p.resolve("pom.xml"))
          && Files.isDirectory(p.resolve("common"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException("Cannot find the repository root above " + Path.of("").toAbsolutePath());
  }

  public static Path python() {
    String env = System.getenv("LORASPACE_PYTHON");
    Path p = env != null && !env.isEmpty() ? Path.of(env) : repoRoot().resolve(".venv/bin/python");
    if (!Files.isExecutable(p)) {
      throw new AssertionError("Python interpreter " + p + " not found: run scripts/setup-python.sh "
          + "(interop tests compare against the reference implementations and are never skipped)");
    }
    return p;
  }

  /** Output and exit code of a finished script. */
  public static final class Result {
    public final int exitCode;
    public final String output;

    Result(int exitCode, String output) {
      this.exitCode = exitCode;
      this.output = output;
    }
  }

  /** Runs {@code scripts/python/<script>} with arguments, waiting up to {@code timeoutSeconds}. */
  public static Result run(String script, int timeoutSeconds, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(python().toString());
    cmd.add(repoRoot().resolve("scripts/python").resolve(script).toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Path log = Files.createTempFile("python-interop-", ".log");
    pb.redirectOutput(log.toFile());
    Process proc = pb.start();
    if (!proc.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      proc.destroyForcibly();
      throw new AssertionError(script + " did not finish within " + timeoutSeconds + " s:\n" + Files.readString(log));
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    return new Result(proc.exitValue(), out);
  }
}
