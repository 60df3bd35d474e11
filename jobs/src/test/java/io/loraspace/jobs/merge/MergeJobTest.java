package io.loraspace.jobs.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.peft.AdapterDirectory;
import io.loraspace.common.io.peft.LoraAdapter;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.common.linalg.DenseMatrix;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge job end to end in local Spark on synthetic features: with the theory's geometry the predicted margins
 * equal the measured ones at α* and no grid point has a larger union margin (2 and 3 tasks); with violated
 * assumptions both are reported side by side; with a misclassified pre-training sample α* is undefined and said so;
 * the merged head and adapter apply the chosen coefficients.
 */
class MergeJobTest {
  @TempDir Path dir;

  private static double margin(JsonNode evaluation, String dataset) {
    return evaluation.path("measured").path("margins").path(dataset).asDouble();
  }

  private static JsonNode rule(JsonNode report, String name) {
    for (JsonNode r : report.path("rules")) {
      if (r.path("rule").asText().equals(name)) {
        return r;
      }
    }
    throw new AssertionError("no rule " + name);
  }

  /** Predicted = measured at α* on every dataset and the union (1e-10); no grid point beats α*'s union margin. */
  private static void assertTheoryHolds(JsonNode report, int tasks) {
    assertThat(report.path("assumptionsHold").asBoolean()).as(report.path("verdict").asText()).isTrue();
    JsonNode opt = rule(report, "optimal");
    double optimum = report.path("theory").path("optimalUnionMargin").asDouble();
    assertThat(optimum).isPositive();
    for (String d : MergeReport.names(report.path("datasets"))) {
      assertThat(margin(opt, d)).as(d).isCloseTo(opt.path("predicted").path("margins").path(d).asDouble(),
          within(1e-10));
      assertThat(margin(opt, d)).as(d).isCloseTo(optimum, within(1e-10));
    }
    assertThat(opt.path("measured").path("unionMargin").asDouble()).isCloseTo(optimum, within(1e-10));
    assertThat(report.path("datasets")).hasSize(tasks + 1);
    double best = 0;
    for (JsonNode u : report.path("grid").path("unionMargin")) {
      best = Math.max(best, u.asDouble());
    }
    assertThat(best).isPositive().isLessThanOrEqualTo(optimum + 1e-12);
    assertThat(report.path("grid").path("best").path("measured").path("unionMargin").asDouble()).isEqualTo(best);
    // the surface is flat near α*: the grid's best is close in value, whatever its position
    assertThat(best).isGreaterThan(0.9 * optimum);
  }

  @Test
  void twoOrthogonalTasksMeetThePredictionAtTheOptimumAndNoGridPointBeatsIt() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "spark.master=local[2]");
    JsonNode report = MergeTesting.merge(data, 2, dir.resolve("out"), "spark.master=local[2]");
    assertTheoryHolds(report, 2);
    assertThat(report.path("grid").path("points").asInt()).isEqualTo(2500);
    // Theorem 3.2: the single-adapter point at the predicted best norm balances D_pre and D_i
    for (JsonNode s : report.path("singleTask")) {
      if (s.path("point").asText().contains("Θ = ")) {
        JsonNode m = s.path("measured").path("margins");
        assertThat(m.path("pre").asDouble()).isCloseTo(s.path("predicted").path("unionMargin").asDouble(),
            within(1e-10));
        assertThat(m.path("pre").asDouble()).isCloseTo(s.path("bestUnionMargin").asDouble(), within(1e-10));
        assertThat(s.path("scaleToBest").asDouble()).isEqualTo(s.path("alpha").get(s.path("adapter").asInt() - 1)
            .asDouble());
      }
    }
    assertThat(Files.readString(dir.resolve("out/report.html"))).contains("<svg").contains("predicted α*")
        .contains("grid best");
  }

  @Test
  void threeOrthogonalTasksMeetThePredictionOnALattice() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "tasks=3", "classes=9", "samples-per-class=8",
        "spark.master=local[2]");
    JsonNode report = MergeTesting.merge(data, 3, dir.resolve("out"), "grid-size=9", "spark.master=local[2]");
    assertTheoryHolds(report, 3);
    assertThat(report.path("grid").path("points").asInt()).isEqualTo(729);
  }

  @Test
  void mergedHeadAndAdapterApplyTheOptimalCoefficients() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "head-dtype=F64", "spark.master=local[2]");
    Path out = dir.resolve("out");
    JsonNode report = MergeTesting.merge(data, 2, out, "grid-size=5", "spark.master=local[2]");
    double[] alpha = {report.path("merged").path("alpha").get(0).asDouble(),
        report.path("merged").path("alpha").get(1).asDouble()};
    assertThat(alpha).containsExactly(report.path("theory").path("optimalAlpha").get(0).asDouble(),
        report.path("theory").path("optimalAlpha").get(1).asDouble());
    DenseMatrix expected;
    try (SafetensorsFile f = SafetensorsFile.open(data.resolve("head/model.safetensors"))) {
      expected = f.readMatrix("classifier.weight");
    }
    for (int i = 0; i < 2; i++) {
      DenseMatrix delta = AdapterDirectory.read(data.resolve("adapters/task-" + (i + 1))).delta("classifier");
      for (int j = 0; j < delta.data().length; j++) {
        expected.data()[j] += alpha[i] * delta.data()[j];
      }
    }
    DenseMatrix merged;
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve("merged/head.safetensors"))) {
      merged = f.readMatrix("classifier.weight");
    }
    LoraAdapter adapter = AdapterDirectory.read(out.resolve("merged/adapter"));
    DenseMatrix base;
    try (SafetensorsFile f = SafetensorsFile.open(data.resolve("head/model.safetensors"))) {
      base = f.readMatrix("classifier.weight");
    }
    DenseMatrix viaAdapter = adapter.delta("classifier");
    for (int j = 0; j < expected.data().length; j++) {
      assertThat(merged.data()[j]).isCloseTo(expected.data()[j], within(1e-12));
      assertThat(base.data()[j] + viaAdapter.data()[j]).isCloseTo(expected.data()[j], within(1e-12));
    }
  }

  @Test
  void violatedOrthogonalityIsReportedWithPredictionAndMeasurementSideBySide() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "overlap=0.4", "spark.master=local[2]");
    JsonNode report = MergeTesting.merge(data, 2, dir.resolve("out"), "grid-size=10", "spark.master=local[2]");
    assertThat(report.path("assumptionsHold").asBoolean()).isFalse();
    assertThat(report.path("verdict").asText()).startsWith("Assumptions fail: D_1 orthogonal to D_pre (max ‖W_pre x‖");
    JsonNode leak = report.path("assumptions").get(4);
    assertThat(leak.path("assumption").asText()).isEqualTo("D_1 orthogonal to D_pre");
    assertThat(leak.path("measured").asDouble()).isGreaterThan(0.05);
    JsonNode opt = rule(report, "optimal");
    double predicted = opt.path("predicted").path("margins").path("task-1").asDouble();
    double measured = margin(opt, "task-1");
    assertThat(Math.abs(predicted - measured)).isGreaterThan(1e-3);
    String html = Files.readString(dir.resolve("out/report.html"));
    assertThat(html).contains("task-1 predicted</th><th>task-1 measured").contains("class='bad'");
  }

  @Test
  void misclassifiedPreTrainingSampleMakesAlphaStarUndefinedAndSaysSo() throws Exception {
    Path data = MergeTesting.synth(dir.resolve("data"), "flip-pre=1", "spark.master=local[2]");
    Path out = dir.resolve("out");
    JsonNode report = MergeTesting.merge(data, 2, out, "grid-size=6", "spark.master=local[2]");
    JsonNode theory = report.path("theory");
    assertThat(theory.path("defined").asBoolean()).isFalse();
    assertThat(theory.path("optimalAlpha").isNull()).isTrue();
    assertThat(theory.path("gammaPre").asDouble()).isNegative();
    assertThat(theory.path("undefinedReason").asText()).startsWith("γ_pre = γ(W_pre; D_pre) = -")
        .endsWith("≤ 0: the pre-trained head misclassifies (or ties) a pre-training sample");
    assertThat(report.path("verdict").asText()).startsWith("α* is undefined: γ_pre = ");
    assertThat(rule(report, "optimal").path("alpha").isNull()).isTrue();
    assertThat(report.path("merged").path("reason").asText()).startsWith("α* is undefined: γ_pre");
    assertThat(report.path("assumptions").get(0).path("detail").asText())
        .contains("data/pre/part-00000.parquet row 0");
    assertThat(out.resolve("merged")).doesNotExist();
    assertThat(report.path("grid").path("hi").asDouble()).isEqualTo(1.0);
    assertThat(Files.readString(out.resolve("report.html"))).contains("α* is undefined");
  }
}
