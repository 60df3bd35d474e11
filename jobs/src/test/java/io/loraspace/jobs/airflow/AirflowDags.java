package io.loraspace.jobs.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.Repo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The example Airflow DAGs (scripts/airflow) as rendered by scripts/python/airflow_dag_commands.py. */
final class AirflowDags {
  private AirflowDags() {}

  static final String DATE = "2026-12-01";

  /** Every DAG file of scripts/airflow (the shared helper module is not a DAG). */
  static List<Path> dagFiles() throws Exception {
    List<Path> out = new ArrayList<>();
    try (var s = Files.list(Repo.root().resolve("scripts/airflow"))) {
      s.filter(p -> p.toString().endsWith(".py") && !p.getFileName().toString().equals("loraspace_airflow.py"))
          .sorted().forEach(out::add);
    }
    return out;
  }

  /** Renders the DAGs for {@link #DATE} with the given Airflow Variables; returns the "dags" array. */
  static JsonNode render(Map<String, String> variables, Path workDir) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Repo.python().toString(),
        Repo.root().resolve("scripts/python/airflow_dag_commands.py").toString(), "--date", DATE));
    variables.forEach((k, v) -> {
      cmd.add("--var");
      cmd.add(k + "=" + v);
    });
    for (Path f : dagFiles()) {
      cmd.add(f.toString());
    }
    Path out = Files.createTempFile(workDir, "dags-", ".json");
    Path err = Files.createTempFile(workDir, "dags-", ".err");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("airflow_dag_commands.py failed:\n" + Files.readString(err, StandardCharsets.UTF_8));
    }
    return Manifest.json().readTree(out.toFile()).get("dags");
  }

  /** The value of {@code --set key=...} in a task's application arguments, or null. */
  static String setting(JsonNode task, String key) {
    JsonNode args = task.get("application_args");
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).asText().equals("--set") && args.get(i + 1).asText().startsWith(key + "=")) {
        return args.get(i + 1).asText().substring(key.length() + 1);
      }
    }
    return null;
  }
}
