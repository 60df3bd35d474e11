package io.loraspace.jobs.recycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.FormatException;
import io.loraspace.common.error.LoraspaceException;
import io.loraspace.common.error.StateException;
import io.loraspace.jobs.output.Manifest;
import org.junit.jupiter.api.Test;

/** The recycle report's wording: speed ratio either way, every curve drawn, errors above 1 and small gaps explained. */
class RecycleReportTest {
  private static ObjectNode report(int modules, boolean center, double speedUp) {
    ObjectNode r = Manifest.json().createObjectNode();
    r.put("collection", "/c").put("adapters", 40).put("skipped", 0).put("selection", "K = 5").put("center", center)
        .put("gapTolerance", 1e-3);
    ArrayNode mods = r.putArray("modules");
    for (int m = 0; m < modules; m++) {
      for (String f : new String[] {"A", "B"}) {
        ObjectNode n = mods.addObject();
        n.put("module", "model.layers." + m + ".self_attn.q_proj").put("factor", f).put("dim", 96)
            .put("vectors", 300).put("principalComponents", 5).put("explainedVarianceRatio", 0.8)
            .put("gapAtK", m == 0 ? 2e-5 : 0.3).put("smallGap", m == 0).put("meanInSampleError", 0.1);
        n.putArray("componentRatios").add(0.5).add(0.2).add(0.1);
      }
    }
    r.putArray("heldOutErrors").add(0.5).add(1.25).add(0.7);
    r.put("heldOutErrorsAboveOne", 1);
    r.putObject("foldSolvers").put("lanczos", 2).put("dense-small-gap", 1);
    r.put("foldsWithSmallGap", 1);
    r.putArray("smallGapFolds").addObject().put("adapter", "/c/a7").put("module", "model.layers.0.self_attn.q_proj")
        .put("factor", "B").put("gapAtK", 2e-5);
    r.putObject("verification").put("folds", 3).put("maxSinPrincipalAngle", 1e-12)
        .put("maxRelativeHeldOutErrorDifference", 1e-13).put("speedUp", speedUp);
    return r;
  }

  @Test
  void aDowndateSlowerThanRecomputationIsCalledSlower() {
    assertThat(RecycleReport.speed(0.6505)).isEqualTo("downdate 1.5373× slower per fold than exact recomputation");
    assertThat(RecycleReport.speed(12.5)).isEqualTo("downdate 12.5000× faster per fold than exact recomputation");
    assertThat(RecycleReport.html(report(10, true, 0.6505))).contains("downdate 1.5373× slower per fold")
        .doesNotContain("faster");
  }

  @Test
  void everyModuleFactorCurveIsDrawnTenPerPlot() {
    String html = RecycleReport.html(report(10, true, 2));
    assertThat(html).contains("20 of 20 (module, factor) pairs shown, 10 per plot.")
        .contains("pairs 1–10 of 20").contains("pairs 11–20 of 20");
    assertThat(html.split("<polyline", -1).length - 1).isEqualTo(20 + 1); // 20 curves + the histogram
    String many = RecycleReport.html(report(70, true, 2));
    assertThat(many).contains("120 of 140 (module, factor) pairs shown, 10 per plot, the first in module order "
        + "(every pair's ratios are in report.json).");
  }

  @Test
  void heldOutErrorsAboveOneAreExplainedWhenCentred() {
    assertThat(RecycleReport.html(report(1, true, 2))).contains("With centring the reconstruction starts from the "
        + "mean, so the error can exceed 1").contains("1 of 3 folds have a held-out error above 1.");
    assertThat(RecycleReport.html(report(1, false, 2))).doesNotContain("With centring");
  }

  @Test
  void smallGapsAreListedWithTheirGap() {
    String html = RecycleReport.html(report(2, true, 2));
    assertThat(html).contains("below gap-tolerance = 0.0010")
        .contains("2 module factors: model.layers.0.self_attn.q_proj A (2.00e-05), model.layers.0.self_attn.q_proj B "
            + "(2.00e-05).")
        .contains("1 folds (the errors table's fold_small_gap column; /c/a7 model.layers.0.self_attn.q_proj B gap "
            + "2.00e-05).")
        .contains("Fold solvers: 2 lanczos, 1 dense-small-gap (dense: LAPACK");
    assertThat(RecycleReport.smallGap(Double.NaN, 1e-3)).isFalse();
    assertThat(RecycleReport.smallGap(0, 1e-3)).isTrue();
  }

  @Test
  void solverFailuresKeepTheirKindAndGainWhere() {
    LoraspaceException s = RecycleTasks.named("recycle: fold without adapter /c/a7, module 'm' lora_B",
        new StateException("LAPACK dsyevr failed with info = 3 (n = 96)"));
    assertThat(s).isInstanceOf(StateException.class).hasMessage("recycle: fold without adapter /c/a7, module 'm' "
        + "lora_B: LAPACK dsyevr failed with info = 3 (n = 96)");
    assertThat(RecycleTasks.named("w", new FormatException("bad"))).isInstanceOf(FormatException.class)
        .hasMessage("w: bad");
    assertThat(RecycleTasks.named("w", new IllegalStateException("x"))).isInstanceOf(StateException.class)
        .hasMessage("w: x");
  }
}
