package io.loraspace.jobs.recycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.Main;
import io.loraspace.jobs.testing.PythonScript;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adapters shaped like the tiny Llama's q/k/v → recycle → reconstruct (one of the collection and one new adapter)
 * → {@code scripts/python/recycle_check.py}: HF PEFT loads them and holds exactly the written factors.
 */
class RecycleInteropTest {
  @TempDir Path dir;

  private int cli(ByteArrayOutputStream err, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--set");
    all.add("spark.master=local[2]");
    err.reset();
    return Main.run(all.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void reconstructedAdaptersLoadInPeft() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Path coll = dir.resolve("adapters");
    // tiny_llama.py: hidden 64, 2 KV heads of 16 → k/v outputs 32, 2 layers; one adapter more than the collection.
    assertThat(cli(err, "synth-adapters", "--set", "out=" + coll, "--set", "adapters=13", "--set", "hidden=64",
        "--set", "kv-dim=32", "--set", "r=8", "--set", "r-min=4", "--set", "vary-alpha=true"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    Path held = dir.resolve("new-adapter");
    Files.move(coll.resolve("adapter-0012"), held);
    Path basis = dir.resolve("recycle");
    assertThat(cli(err, "recycle", "--set", "adapters=" + coll, "--set", "out=" + basis, "--set", "components=8"))
        .as(err.toString(StandardCharsets.UTF_8)).isZero();
    for (Path adapter : List.of(coll.resolve("adapter-0004"), held)) {
      Path rec = dir.resolve("rec-" + adapter.getFileName());
      assertThat(cli(err, "reconstruct", "--set", "basis=" + basis, "--set", "adapter=" + adapter,
          "--set", "out=" + rec)).as(err.toString(StandardCharsets.UTF_8)).isZero();
      String out = PythonScript.run(dir, 600, "recycle_check.py", rec.toString());
      assertThat(out).contains("LoRA layers loaded: 6 of 6").contains("recycle_check: 0 failed");
    }
  }
}
