package io.loraspace.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * ARCHITECTURE.md: common has no Spark, Hadoop or Scala imports (the enforcer bans the dependencies; this catches a
 * fully qualified use or an import that sneaks in through a transitive dependency).
 */
class CommonIsPlainJavaTest {
  private static final Pattern FORBIDDEN = Pattern.compile("\\b(org\\.apache\\.spark|org\\.apache\\.hadoop|scala)\\.");

  @Test
  void mainSourcesReferenceNoSparkHadoopOrScala() throws IOException {
    Path src = Path.of("src/main/java");
    assertThat(src).isDirectory();
    List<String> offenders = new ArrayList<>();
    int files = 0;
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : (Iterable<Path>) s.filter(f -> f.toString().endsWith(".java"))::iterator) {
        files++;
        List<String> lines = Files.readAllLines(p);
        for (int i = 0; i < lines.size(); i++) {
          if (FORBIDDEN.matcher(lines.get(i)).find()) {
            offenders.add(p + ":" + (i + 1) + ": " + lines.get(i).trim());
          }
        }
      }
    }
    assertThat(files).isPositive();
    assertThat(offenders).isEmpty();
  }
}
