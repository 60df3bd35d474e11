package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.testing.Repo;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

/** The embedded launcher gives the JVM what spark-submit gives a driver. */
class LauncherTest {
  @Test
  void embeddedLauncherUsesSparksJavaModuleOptions() throws Exception {
    String env = Files.readString(Repo.root().resolve("scripts/lib/env.sh"));
    Matcher m = Pattern.compile("LORASPACE_JAVA_MODULE_OPTIONS=\"([^\"]*)\"").matcher(env);
    assertThat(m.find()).isTrue();
    String ours = m.group(1).replace("\\\n", " ").trim().replaceAll("\\s+", " ");
    assertThat(ours).isEqualTo(JavaModuleOptions.defaultModuleOptions());
    for (String launcher : new String[] {"scripts/loraspace", "scripts/loraspace-java"}) {
      assertThat(Files.readString(Repo.root().resolve(launcher))).as(launcher)
          .contains("exec java $LORASPACE_JAVA_MODULE_OPTIONS");
    }
  }
}
