package io.loraspace.common.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.loraspace.common.error.ArgumentException;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The bundled OpenBLAS is what the kernels run on, and the fallback order when it cannot load. */
class BlasLibraryTest {

  @Test
  void kernelsRunOnTheBundledNativeLibrary() {
    BlasLibrary lib = Blas.library();
    assertThat(lib.source()).as(lib.describe()).isEqualTo(BlasLibrary.Source.BUNDLED);
    assertThat(Blas.isNative()).isTrue();
    assertThat(Blas.blas().getClass().getSimpleName()).isEqualTo("JNIBLAS");
    assertThat(Blas.lapack().getClass().getSimpleName()).isEqualTo("JNILAPACK");
    assertThat(lib.version()).startsWith("0.3.31 (org.bytedeco:openblas:0.3.31-");
    assertThat(Path.of(lib.location())).isRegularFile();
    assertThat(lib.describe()).startsWith("bundled " + lib.location() + ", OpenBLAS 0.3.31");
  }

  @Test
  void theBundledLibraryIsTheOnlyBlasMappedIntoTheProcess() throws Exception {
    Blas.library();
    assertThat(BlasLibrary.mappedLibraries()).containsExactly(Path.of(Blas.library().location()).toRealPath()
        .toString());
  }

  @Test
  void theCoreIsOneTheLibraryDetectsOrIsForcedTo() {
    String core = Blas.library().core();
    if (System.getProperty("os.arch").equals("amd64")) {
      assertThat(core).isIn("PRESCOTT", "CORE2", "PENRYN", "DUNNINGTON", "NEHALEM", "SANDYBRIDGE", "HASWELL",
          "SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS", "ATOM", "OPTERON", "OPTERON_SSE3", "BARCELONA", "BOBCAT",
          "BULLDOZER", "PILEDRIVER", "STEAMROLLER", "EXCAVATOR", "ZEN");
    } else {
      assertThat(core).isNotEqualTo("unknown");
    }
    String forced = System.getenv("OPENBLAS_CORETYPE");
    if (forced != null && !forced.isEmpty()) {
      assertThat(Blas.library().forcedCoreType()).isEqualTo(forced);
      assertThat(core).isEqualToIgnoringCase(forced);
    } else {
      assertThat(Blas.library().forcedCoreType()).isNull();
    }
  }

  @Test
  void setThreadsChangesTheThreadsPerCallAndTheResultsStayTheSame() {
    BlasLibrary lib = Blas.library();
    int before = lib.threads();
    int n = 300;
    int k = 200;
    double[] a = new double[n * k];
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < a.length; i++) {
      a[i] = rnd.nextDouble() - 0.5;
    }
    double[][] c = new double[2][n * n];
    try {
      for (int t = 1; t <= 2; t++) {
        assertThat(lib.setThreads(t)).isTrue();
        assertThat(lib.threads()).isEqualTo(t);
        Blas.blas().dsyrk("U", "N", n, k, 1.0, a, n, 0.0, c[t - 1], n);
      }
    } finally {
      lib.setThreads(Math.max(1, before));
    }
    for (int j = 0; j < n; j++) {
      for (int i = 0; i <= j; i++) {
        assertThat(c[1][i + j * n]).isCloseTo(c[0][i + j * n], org.assertj.core.data.Offset.offset(1e-12));
      }
    }
    // naive: C[i,j] = sum_l A[i,l] A[j,l]
    double s = 0;
    for (int l = 0; l < k; l++) {
      s += a[7 + l * n] * a[11 + l * n];
    }
    assertThat(c[0][7 + 11 * n]).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void setThreadsRejectsZero() {
    assertThatThrownBy(() -> Blas.library().setThreads(0)).isInstanceOf(ArgumentException.class)
        .hasMessage("BLAS threads 0, expected at least 1");
  }

  @Test
  void anUnknownChoiceFailsNamingThePropertyAndValue() {
    String old = System.getProperty(BlasLibrary.PROPERTY);
    System.setProperty(BlasLibrary.PROPERTY, "fastest");
    try {
      assertThatThrownBy(BlasLibrary::load).isInstanceOf(ArgumentException.class)
          .hasMessage("System property loraspace.blas has value 'fastest', expected one of auto, bundled, system, java");
    } finally {
      if (old == null) {
        System.clearProperty(BlasLibrary.PROPERTY);
      } else {
        System.setProperty(BlasLibrary.PROPERTY, old);
      }
    }
  }

  /** Prints the library a fresh JVM chose; run by the tests below in a child JVM. */
  static final class Probe {
    public static void main(String[] args) {
      BlasLibrary lib = Blas.library();
      System.out.println("source=" + lib.source());
      System.out.println("reason=" + lib.reason());
    }
  }

  private static String runProbe(boolean withBundledJars, String... jvmArgs) throws Exception {
    // Surefire runs tests from a manifest-only jar and passes the real class path in this property.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String cp = Stream.of(classPath.split(File.pathSeparator))
        .filter(e -> withBundledJars || !e.contains("org/bytedeco"))
        .collect(Collectors.joining(File.pathSeparator));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of(jvmArgs));
    cmd.addAll(List.of("-cp", cp, Probe.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void withoutTheBundledJarsItFallsBackAndSaysWhy() throws Exception {
    String out = runProbe(false);
    // Next in the order: the system library where the machine has one, else Java; either way not bundled.
    assertThat(out).containsPattern("source=(SYSTEM|JAVA)");
    assertThat(out).contains("bundled OpenBLAS not loaded: NoClassDefFoundError");
  }

  @Test
  void forcedJavaUsesNetlibsJavaCode() throws Exception {
    String out = runProbe(true, "-Dloraspace.blas=java");
    assertThat(out).contains("source=JAVA").contains("reason=loraspace.blas=java");
  }
}
