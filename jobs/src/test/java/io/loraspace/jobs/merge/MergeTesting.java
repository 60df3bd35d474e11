package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.output.Manifest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs synth-merge and merge through the CLI for the merge tests. */
final class MergeTesting {
  private MergeTesting() {}

  record Run(int code, String err) {}

  static Run cli(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, err.toString(StandardCharsets.UTF_8));
  }

  static List<String> sets(String... keyValues) {
    List<String> out = new ArrayList<>();
    for (String kv : keyValues) {
      out.add("--set");
      out.add(kv);
    }
    return out;
  }

  /** Writes a synthetic problem into {@code dir}; {@code extra} are synth-merge options (key=value). */
  static Path synth(Path dir, String... extra) {
    List<String> args = new ArrayList<>(List.of("synth-merge"));
    args.addAll(sets("out=" + dir));
    args.addAll(sets(extra));
    Run r = cli(args.toArray(new String[0]));
    assertThat(r.code()).as(r.err()).isZero();
    return dir;
  }

  /** The merge options for a synthetic problem in {@code data} with {@code tasks} tasks. */
  static List<String> mergeArgs(Path data, int tasks, Path out) {
    List<String> adapters = new ArrayList<>();
    List<String> taskData = new ArrayList<>();
    for (int i = 1; i <= tasks; i++) {
      adapters.add(data.resolve("adapters/task-" + i).toString());
      taskData.add(data.resolve("data/task-" + i).toString());
    }
    List<String> args = new ArrayList<>(List.of("merge"));
    args.addAll(sets("head-checkpoint=" + data.resolve("head"), "head=classifier.weight",
        "adapters=" + String.join(",", adapters), "pre-data=" + data.resolve("data/pre"),
        "task-data=" + String.join(",", taskData), "out=" + out));
    return args;
  }

  static JsonNode merge(Path data, int tasks, Path out, String... extra) throws IOException {
    List<String> args = mergeArgs(data, tasks, out);
    args.addAll(sets(extra));
    Run r = cli(args.toArray(new String[0]));
    assertThat(r.code()).as(r.err()).isZero();
    return Manifest.json().readTree(out.resolve("report.json").toFile());
  }
}
