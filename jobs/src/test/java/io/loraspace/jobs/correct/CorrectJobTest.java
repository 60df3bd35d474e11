package io.loraspace.jobs.correct;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.correct.CsuLora;
import io.loraspace.common.correct.LoraUpdate;
import io.loraspace.common.correct.Penalty;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.linalg.DenseMatrix;
import io.loraspace.common.linalg.Matrices;
import io.loraspace.common.linalg.ThinSvd;
import io.loraspace.common.synth.SyntheticAdapters;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.Cli;
import io.loraspace.jobs.testing.CorrectFixture;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The correct job in local Spark on a collection: every adapter's corrected ΔW equals CSULoRA against the exact
 * subspaces (full SVD of D), SafeLoRA's selected modules hold C·B and the others the input, configs are copied, and
 * each module's subspace is computed once for the whole collection.
 */
class CorrectJobTest {
  @TempDir static Path dir;
  private static final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private static final SyntheticAdapters.Spec SPEC = CorrectFixture.spec(3, 32, 16, 4);

  private static int cli(String... args) {
    return Cli.run(err, args);
  }

  @BeforeAll
  static void inputs() {
    CorrectFixture.checkpoints(dir, SPEC, Map.of(), Map.of());
    CorrectFixture.adapters(dir.resolve("adapters"), SPEC);
  }

  private static DenseMatrix displacement(String module) {
    return CorrectFixture.displacement(module, SPEC.outOf(module), SPEC.hidden);
  }

  private static DenseMatrix delta(LoraAdapter a, String module) {
    return a.delta(module);
  }

  @Test
  void collectionIsCorrectedAgainstOneSharedSubspacePerModule() throws Exception {
    Path out = dir.resolve("out");
    assertThat(cli("correct", "--set", "adapters=" + dir.resolve("adapters"), "--set", "base=" + dir.resolve("base"),
        "--set", "aligned=" + dir.resolve("aligned"), "--set", "methods=csulora,safelora", "--set",
        "safelora-layers=1", "--set", "out=" + out)).as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonNode manifest = Manifest.json().readTree(out.resolve("manifest.json").toFile());
    assertThat(manifest.path("counts").path("subspaces").asInt()).isEqualTo(3);
    assertThat(manifest.path("counts").path("moduleCorrections").asInt()).isEqualTo(3 * 3 * 2);
    JsonNode report = Manifest.json().readTree(out.resolve("report.json").toFile());
    assertThat(report.path("modules")).hasSize(3);
    // The tasks' reads reach Spark's input metrics: each module's base and aligned weights at least.
    long weightBytes = 0;
    try (io.loraspace.common.io.safetensors.ShardedCheckpoint base =
        io.loraspace.common.io.safetensors.ShardedCheckpoint.open(dir.resolve("base"))) {
      for (JsonNode m : report.path("modules")) {
        weightBytes += base.info(m.path("module").asText() + ".weight").byteLength();
      }
    }
    assertThat(weightBytes).isPositive();
    assertThat(manifest.path("counts").path("sparkBytesRead").asLong()).isGreaterThanOrEqualTo(2 * weightBytes);
    for (JsonNode m : report.path("modules")) {
      assertThat(m.path("subspace").path("csulora").path("k").asInt()).isEqualTo(3);
      assertThat(m.path("subspace").path("csulora").path("residual").asDouble()).isLessThan(1e-8);
    }
    assertThat(Files.readString(out.resolve("report.html"))).contains("<svg").contains("cosDeltaOptimum");
    Penalty penalty = Penalty.energyRatio(1e-3);
    for (int i = 0; i < SPEC.adapters; i++) {
      String name = String.format("adapter-%04d", i);
      Path input = dir.resolve("adapters").resolve(name);
      LoraAdapter in = AdapterDirectory.read(input);
      LoraAdapter csu = AdapterDirectory.read(out.resolve("csulora").resolve(name));
      LoraAdapter safe = AdapterDirectory.read(out.resolve("safelora").resolve(name));
      assertThat(Files.readAllBytes(out.resolve("csulora").resolve(name).resolve(AdapterDirectory.CONFIG)))
          .isEqualTo(Files.readAllBytes(input.resolve(AdapterDirectory.CONFIG)));
      int projected = 0;
      for (String module : SPEC.modules()) {
        LoraAdapter.Factors f = in.factors(module);
        DenseMatrix d = displacement(module);
        ThinSvd svd = ThinSvd.of(d);
        CsuLora.Result ref = CsuLora.solve(new LoraUpdate(f.a(), f.b(), in.config().scaling(module)),
            svd.u().columns(0, 3), svd.v().columns(0, 3), penalty);
        DenseMatrix expected = Matrices.multiply(ref.b(), ref.a());
        Matrices.scale(in.config().scaling(module), expected);
        assertThat(Matrices.relativeFrobeniusDiff(delta(csu, module), expected)).as("%s %s", name, module)
            .isLessThan(1e-5);
        assertThat(csu.factors(module).rank()).isEqualTo(f.rank());
        // SafeLoRA: A unchanged; B is C·B on the selected module, else the input's.
        assertThat(safe.factors(module).a().data()).containsExactly(f.a().data());
        DenseMatrix cb = Matrices.multiply(d, Matrices.multiply(d, true, f.b(), false));
        Matrices.scale(1.0 / d.frobeniusNorm(), cb);
        boolean isProjected = Matrices.relativeFrobeniusDiff(safe.factors(module).b(), cb) < 1e-5;
        if (!isProjected) {
          assertThat(safe.factors(module).b().data()).containsExactly(f.b().data());
        }
        projected += isProjected ? 1 : 0;
      }
      assertThat(projected).as("SafeLoRA with safelora-layers=1 projects the lowest-cosine module").isEqualTo(1);
    }
  }
}
