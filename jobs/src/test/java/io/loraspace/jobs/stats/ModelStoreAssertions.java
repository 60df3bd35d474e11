package io.loraspace.jobs.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.loraspace.common.io.safetensors.SafetensorsFile;
import io.loraspace.jobs.output.Manifest;
import io.loraspace.jobs.testing.StoreReference;
import java.nio.file.Path;
import java.util.List;

/** Two statistics stores hold the same keys, counts and metadata, and tensors equal to a relative tolerance. */
public final class ModelStoreAssertions {
  private ModelStoreAssertions() {}

  public static void assertSameStore(Path expected, Path actual, double tol) throws Exception {
    JsonNode a = Manifest.json().readTree(expected.resolve("store.json").toFile());
    assertThat(Manifest.json().readTree(actual.resolve("store.json").toFile())).isEqualTo(a);
    int tensors = 0;
    for (String section : List.of("sites", "modules")) {
      assertThat(a.get(section)).isNotEmpty();
      for (JsonNode n : a.get(section)) {
        try (SafetensorsFile fa = SafetensorsFile.open(expected.resolve(n.get("file").asText()));
            SafetensorsFile fb = SafetensorsFile.open(actual.resolve(n.get("file").asText()))) {
          assertThat(fb.metadata()).isEqualTo(fa.metadata());
          for (String t : fa.tensorNames()) {
            assertThat(StoreReference.relErr(fb.readDoubles(t), fa.readDoubles(t))).as(n.get("file") + ":" + t)
                .isLessThan(tol);
            tensors++;
          }
        }
      }
    }
    assertThat(tensors).isGreaterThan(40);
  }
}
