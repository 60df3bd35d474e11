package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.StoreReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The statistics store is the same bytes however the run is shaped: one core or several, other reduce partitioning,
 * key groups, twenty-odd passes. (The standalone-cluster and executor-loss cases are in StatsOnClusterIT.)
 */
class StatsSameBytesTest {
  @TempDir Path dir;

  private Path stats(String name, Path corpus, String... extra) throws Exception {
    Path out = dir.resolve(name);
    List<String> args = new ArrayList<>(List.of("stats", "--set", "input=" + corpus, "--set", "out=" + out));
    for (String e : extra) {
      args.add("--set");
      args.add(e);
    }
    Cli.ok(args.toArray(new String[0]));
    return out;
  }

  @Test
  void storeBytesDoNotDependOnCoresPartitionsOrPasses() throws Exception {
    Path corpus = dir.resolve("corpus");
    Cli.ok("synth-corpus", "--set", "out=" + corpus, "--set", "files=5", "--set", "samples=10", "--set", "layers=2",
        "--set", "hidden=17", "--set", "kv-dim=5", "--set", "intermediate=9", "--set", "min-tokens=1",
        "--set", "max-tokens=40", "--set", "block-tokens=7", "--set", "gradients=true", "--set", "dtype=BF16",
        "--set", "spark.master=local[2]");
    Map<String, String> oneCore = StoreReference.dataHashes(stats("one-core", corpus, "spark.master=local[1]"));
    assertThat(oneCore).containsKey("store.json").hasSizeGreaterThan(20);

    Path wide = stats("two-cores", corpus, "spark.master=local[2]", "reduce-partitions=3");
    assertThat(StoreReference.dataHashes(wide)).isEqualTo(oneCore);

    // 12 slots over 5 files: each file's keys split over 3 parallel tasks (KeyGroups), sites with their gradients.
    Path groups = stats("key-groups", corpus, "spark.master=local[12]");
    assertThat(KeyGroups.count(5, 12, 6)).isEqualTo(3);
    assertThat(StoreReference.dataHashes(groups)).isEqualTo(oneCore);
    JsonNode g = Manifest.json().readTree(groups.resolve("manifest.json").toFile()).path("counts");
    JsonNode c = Manifest.json().readTree(dir.resolve("one-core/manifest.json").toFile()).path("counts");
    for (String k : new String[] {"rowsDecoded", "bytesDecoded", "skippedTokens", "tokens"}) {
      assertThat(g.path(k).asLong()).as(k).isEqualTo(c.path(k).asLong());
    }

    Path passes = stats("passes", corpus, "spark.master=local[2]", "max-task-memory=2600");
    JsonNode m = Manifest.json().readTree(passes.resolve("manifest.json").toFile());
    assertThat(m.path("counts").path("passes").asInt()).isGreaterThanOrEqualTo(20);
    assertThat(StoreReference.dataHashes(passes)).isEqualTo(oneCore);
  }
}
