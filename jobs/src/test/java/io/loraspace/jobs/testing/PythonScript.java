package io.loraspace.jobs.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs one of the interop checks in {@code scripts/python} with the project's interpreter. */
public final class PythonScript {
  private PythonScript() {}

  /**
   * Runs {@code scripts/python/<script> args…} (stdout and stderr into a log file in {@code logDir}, no bytecode
   * written); asserts it finished within {@code timeoutSeconds} and exited 0 (the log is the failure message) and
   * returns its output, also printed for the test report.
   */
  public static String run(Path logDir, int timeoutSeconds, String script, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Repo.python().toString(),
        Repo.root().resolve("scripts/python").resolve(script).toString()));
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile(logDir, "py-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    Process p = pb.start();
    assertThat(p.waitFor(timeoutSeconds, TimeUnit.SECONDS)).as(script + " finished").isTrue();
    String out = Files.readString(log);
    System.out.println(out);
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
