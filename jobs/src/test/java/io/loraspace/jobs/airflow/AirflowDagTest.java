package io.loraspace.jobs.airflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.Main;
import io.loraspace.jobs.cli.Job;
import io.loraspace.jobs.cli.JobRegistry;
import io.loraspace.jobs.cli.JobRunner;
import io.loraspace.jobs.cli.OptionResolver;
import io.loraspace.jobs.output.Redaction;
import io.loraspace.jobs.testing.Repo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example DAGs cannot drift from the CLI: every command they submit exists, every --conf file is in conf/, every
 * key (from the conf files and --set) is an option of that command with a valid value, and the data flow is wired:
 * each task reads what an upstream task or sensor guarantees complete.
 */
class AirflowDagTest {
  @TempDir Path dir;

  @Test
  void everyCommandConfFileAndSettingOfTheDagsIsValidForTheCli() throws Exception {
    Path conf = Repo.root().resolve("conf");
    JsonNode dags = AirflowDags.render(Map.of("loraspace_conf_dir", conf.toString()), dir);
    assertThat(dags).hasSize(2);
    JobRegistry registry = Main.registry();
    Redaction redaction = new Redaction(null, null);
    int submits = 0;
    for (JsonNode dag : dags) {
      Map<String, JsonNode> byId = new HashMap<>();
      for (JsonNode task : dag.get("tasks")) {
        byId.put(task.get("task_id").asText(), task);
        if (!task.get("kind").asText().equals("spark-submit")) {
          assertThat(task.get("bucket_key").asText()).as(task.toString()).startsWith("s3://").endsWith("/_SUCCESS");
          continue;
        }
        submits++;
        assertThat(task.get("java_class").asText()).isEqualTo("io.loraspace.jobs.Main");
        assertThat(task.get("application").asText()).endsWith("-job.jar");
        task.get("conf").fieldNames().forEachRemaining(k -> {
          assertThat(k).startsWith("spark.");
          assertThat(redaction.isSecretKey(k)).as("credential setting " + k + " in a DAG").isFalse();
        });
        List<String> args = new ArrayList<>();
        task.get("application_args").forEach(a -> args.add(a.asText()));
        Job job = registry.get(args.get(0));
        assertThat(job).as("command " + args.get(0) + " of " + task.get("task_id")).isNotNull();
        List<Path> confs = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        for (int i = 1; i < args.size(); i += 2) {
          assertThat(args.get(i)).isIn("--conf", "--set");
          if (args.get(i).equals("--conf")) {
            Path f = Path.of(args.get(i + 1));
            assertThat(f.getParent()).isEqualTo(conf);
            assertThat(Files.isRegularFile(f)).as(f.toString()).isTrue();
            confs.add(f);
          } else {
            sets.add(args.get(i + 1));
            assertThat(redaction.isSecretKey(args.get(i + 1).split("=", 2)[0])).isFalse();
          }
        }
        // Strict: an unknown key or a bad value (in a conf file or a --set) throws, naming it.
        new OptionResolver(job.name(), JobRunner.specOf(job), registry.all().keySet()).resolve(confs, sets);
        assertThat(AirflowDags.setting(task, "out")).as(task.get("task_id") + " writes under the run's date")
            .contains("/" + AirflowDags.DATE + "/");
        // Every input comes from an upstream task's output or a sensor's _SUCCESS prefix.
        for (String key : List.of("input", "stats", "adapters", "basis")) {
          String in = AirflowDags.setting(task, key);
          if (in == null) {
            continue;
          }
          List<String> guaranteed = new ArrayList<>();
          for (JsonNode up : task.get("upstream")) {
            JsonNode u = byId.get(up.asText());
            guaranteed.add(u.has("bucket_key") ? u.get("bucket_key").asText().replace("s3://", "s3a://")
                .replace("/_SUCCESS", "") : AirflowDags.setting(u, "out"));
          }
          assertThat(guaranteed).as(task.get("task_id") + " reads " + in).contains(in);
        }
      }
    }
    assertThat(submits).isEqualTo(5);
  }
}
