package io.loraspace.jobs.testing;

import io.loraspace.jobs.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs the CLI in this JVM, standard error captured. */
public final class Cli {
  private Cli() {}

  /** Exit code and standard error of one run. */
  public record Result(int code, String err) {}

  /** Runs {@code args} as given (no Spark master added). */
  public static Result exec(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, err.toString(StandardCharsets.UTF_8));
  }

  /** Runs {@code args} as given and fails the test, showing standard error, unless it exits 0. */
  public static void ok(String... args) {
    Result r = exec(args);
    if (r.code() != 0) {
      throw new AssertionError("loraspace " + String.join(" ", args) + " exited " + r.code() + ":\n" + r.err());
    }
  }

  /** In local Spark ({@code local[2]}): the exit code; {@code err} is reset first and holds standard error. */
  public static int run(ByteArrayOutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    err.reset();
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }
}
