package io.loraspace.jobs.airflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.Repo;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example DAGs run end to end on local data: the commands they render, in their dependency order, each in its
 * own JVM as Airflow's workers would run them; a sensor is satisfied when its _SUCCESS exists.
 */
class AirflowDagIT {
  @TempDir Path dir;

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static Path local(String uri) {
    return uri.startsWith("file:") ? Path.of(URI.create(uri)) : Path.of(uri);
  }

  @Test
  void dagsRunEndToEndInTheirOrder() throws Exception {
    String ds = AirflowDags.DATE;
    Path lake = dir.resolve("lake");
    // What other systems publish: an activation corpus and the base it was captured from, the adapter registry's
    // export, one adapter trained this week.
    Path demo = dir.resolve("demo");
    Cli.ok("demo", "--set", "out=" + demo, "--set", "samples=12", "--set", "layers=1", "--set", "hidden=32",
        "--set", "r=4", "--set", "spark.master=local[2]");
    copyTree(demo.resolve("corpus"), lake.resolve("activations/" + ds));
    Files.writeString(lake.resolve("activations/" + ds + "/_SUCCESS"), "");
    Path registry = lake.resolve("adapter-registry/" + ds);
    Cli.ok("synth-adapters", "--set", "out=" + registry, "--set", "adapters=10", "--set", "layers=1",
        "--set", "hidden=32", "--set", "kv-dim=8", "--set", "r=4", "--set", "shared-rank=2",
        "--set", "spark.master=local[2]");
    Path someAdapter;
    try (Stream<Path> s = Files.walk(registry)) {
      someAdapter = s.filter(p -> p.getFileName().toString().equals("adapter_config.json")).findFirst()
          .orElseThrow().getParent();
    }
    copyTree(someAdapter, lake.resolve("incoming/" + ds + "/adapter"));

    JsonNode dags = AirflowDags.render(Map.of("loraspace_root", lake.toUri().toString().replaceAll("/$", ""),
        "loraspace_conf_dir", Repo.root().resolve("conf").toString(), "loraspace_base_model",
        demo.resolve("base").toString(), "loraspace_finetune_samples", "500"), dir);
    String cp = System.getProperty("loraspace.jobJar") + java.io.File.pathSeparator
        + Files.readString(Path.of(System.getProperty("loraspace.embeddedClasspath"))).trim();
    List<String> ran = new ArrayList<>();
    for (JsonNode dag : dags) {
      for (JsonNode task : dag.get("tasks")) {
        String id = dag.get("dag_id").asText() + "." + task.get("task_id").asText();
        if (task.get("kind").asText().equals("s3-key-sensor")) {
          Path marker = local(task.get("bucket_key").asText().replace("s3://", "file://"));
          assertThat(marker).as(id).exists();
          ran.add(id);
          continue;
        }
        // As scripts/loraspace-java launches it: Spark's driver JVM options (Kryo needs them), the embedded classpath.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString()));
        cmd.addAll(List.of(JavaModuleOptions.defaultModuleOptions().split(" ")));
        cmd.addAll(List.of("-Xmx1g", "-cp", cp, task.get("java_class").asText()));
        task.get("application_args").forEach(a -> cmd.add(a.asText()));
        cmd.addAll(List.of("--set", "spark.master=local[2]"));
        Path log = dir.resolve(task.get("task_id").asText() + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        Process p = pb.start();
        assertThat(p.waitFor(600, TimeUnit.SECONDS)).as(id + " finished").isTrue();
        assertThat(p.exitValue()).as(id + ":\n" + Files.readString(log)).isZero();
        assertThat(local(AirflowDags.setting(task, "out")).resolve("_SUCCESS")).as(id).exists();
        ran.add(id);
      }
    }
    assertThat(ran).containsExactly("loraspace_adapter_init.wait_corpus", "loraspace_adapter_init.stats",
        "loraspace_adapter_init.init_sc_lora_corda", "loraspace_adapter_init.init_lora_da",
        "loraspace_adapter_recycle.wait_registry", "loraspace_adapter_recycle.recycle",
        "loraspace_adapter_recycle.reconstruct_incoming");
  }
}
