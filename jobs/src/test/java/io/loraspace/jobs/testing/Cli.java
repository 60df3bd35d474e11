package io.loraspace.jobs.testing;

import io.loraspace.jobs.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs the CLI in this JVM in local Spark ({@code local[2]}), standard error captured into {@code err}. */
public final class Cli {
  private Cli() {}

  /** The exit code; {@code err} is reset first and holds the run's standard error. */
  public static int run(ByteArrayOutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    err.reset();
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }
}
