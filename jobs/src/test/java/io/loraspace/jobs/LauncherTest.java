package io.loraspace.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.loraspace.jobs.testing.Repo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

/** The embedded launcher gives the JVM what spark-submit gives a driver, and its own tuning options. */
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

  /**
   * The JIT and huge-page options (docs/operations.md): every one is a flag this JVM knows, with the value it
   * reports back (the module options carry -XX:+IgnoreUnrecognizedVMOptions, so a misspelt flag would otherwise be
   * dropped without a word); the launcher puts them before JAVA_OPTS; LORASPACE_JVM_TUNING=off prints none.
   */
  @Test
  void jvmTuningOptionsAreKnownFlagsThatTheUserCanOverrideOrTurnOff() throws Exception {
    String on = tuning("on");
    List<String> options = new ArrayList<>(Arrays.asList(on.trim().split("\\s+")));
    assertThat(options).contains("-XX:Tier4InvocationThreshold=50000", "-XX:Tier4MinInvocationThreshold=20000",
        "-XX:Tier4CompileThreshold=60000", "-XX:Tier4BackEdgeThreshold=400000");
    Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    boolean madvise = Files.isReadable(thp) && Files.readString(thp).contains("[madvise]");
    assertThat(options.contains("-XX:+UseTransparentHugePages")).as("THP flag iff the kernel's mode is madvise")
        .isEqualTo(madvise);
    assertThat(tuning("off")).isEmpty();

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(options);
    cmd.add("-XX:+PrintFlagsFinal");
    cmd.add("-version");
    String flags = run(cmd);
    for (String o : options) {
      String name = o.substring(4).replaceFirst("^[+-]", "").replaceFirst("=.*", "");
      String value = o.contains("=") ? o.substring(o.indexOf('=') + 1) : o.startsWith("-XX:+") ? "true" : "false";
      assertThat(flags).as(o).containsPattern("\\b" + name + "\\s+= " + Pattern.quote(value) + "\\s");
    }
    String launcher = Files.readString(Repo.root().resolve("scripts/loraspace"));
    assertThat(launcher).contains("$TUNING_OPTIONS ${JAVA_OPTS:-");
  }

  private static String tuning(String mode) throws Exception {
    return run(List.of("bash", "-c", "source scripts/lib/env.sh && LORASPACE_JVM_TUNING=" + mode
        + " loraspace_jvm_tuning_options")).trim();
  }

  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(Repo.root().toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + text).isZero();
    return text;
  }
}
