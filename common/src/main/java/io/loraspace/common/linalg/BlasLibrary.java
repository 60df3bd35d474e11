package io.loraspace.common.linalg;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import dev.ludovic.netlib.lapack.JavaLAPACK;
import dev.ludovic.netlib.lapack.LAPACK;
import io.loraspace.common.error.ArgumentException;
import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The BLAS/LAPACK library behind {@link Blas} and, in the same JVM, behind Spark MLlib: both go through
 * {@code dev.ludovic.netlib}, which loads one native library per JVM, the first time it is used, from the system
 * properties {@code dev.ludovic.netlib.{blas,lapack}.nativeLibPath}. {@link #load()} sets them before that happens.
 *
 * <p>Order, with the JVM system property {@value #PROPERTY} = {@code auto} (the default):
 * <ol>
 *   <li><b>bundled</b>: the OpenBLAS shipped in the jar ({@code org.bytedeco:openblas}, {@code linux-x86_64} built
 *       with DYNAMIC_ARCH, which picks its kernels from the CPU it runs on, and {@code linux-arm64}), extracted by
 *       JavaCPP to its cache directory ({@code ~/.javacpp/cache}, property {@code org.bytedeco.javacpp.cachedir});
 *   <li><b>system</b>: netlib's default {@code libblas.so.3}/{@code liblapack.so.3} from the dynamic loader's path
 *       (e.g. Debian's {@code libopenblas0-pthread}), when the bundled library cannot be loaded (another OS or CPU
 *       architecture, an unwritable cache directory);
 *   <li><b>java</b>: netlib's Java code (8–10× slower for {@code dsyrk}/{@code dsyevd}).
 * </ol>
 * {@code bundled}, {@code system} or {@code java} force one: a forced native library that does not load fails with
 * {@link StateException} rather than falling back (benchmarks compare the three this way); {@code java} makes
 * loraspace's kernels use netlib's Java code whatever netlib loads for MLlib. netlib's own {@code nativeLib} /
 * {@code nativeLibPath} properties, when the user set them, are honoured and reported as a system library.
 * Which library was loaded and why is logged once: INFO for the bundled one, WARN for a fallback.
 *
 * <p>{@code OPENBLAS_CORETYPE}, when set in the process environment, forces the bundled library's kernels (it reads
 * the variable once, as it loads): a core older than the CPU runs up to 2× slower. The launchers unset it unless the
 * user asks for one ({@code LORASPACE_OPENBLAS_CORETYPE}); {@link #forcedCoreType()} reports it and a WARN names it.
 */
public final class BlasLibrary {
  private static final Logger LOG = LoggerFactory.getLogger(BlasLibrary.class);

  /** JVM system property choosing the library: {@code auto}, {@code bundled}, {@code system} or {@code java}. */
  public static final String PROPERTY = "loraspace.blas";

  private static final String NETLIB_BLAS_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
  private static final String NETLIB_LAPACK_PATH = "dev.ludovic.netlib.lapack.nativeLibPath";
  private static final String NETLIB_BLAS_NAME = "dev.ludovic.netlib.blas.nativeLib";
  private static final String NETLIB_LAPACK_NAME = "dev.ludovic.netlib.lapack.nativeLib";

  /** DYNAMIC_ARCH kernel sets of the x86-64 build, as exported {@code gotoblas_<NAME>} tables (driver/others/dynamic.c). */
  private static final String[] X86_64_CORES = {"PRESCOTT", "CORE2", "PENRYN", "DUNNINGTON", "NEHALEM", "SANDYBRIDGE",
      "HASWELL", "SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS", "ATOM", "OPTERON", "OPTERON_SSE3", "BARCELONA", "BOBCAT",
      "BULLDOZER", "PILEDRIVER", "STEAMROLLER", "EXCAVATOR", "ZEN"};

  /** Where the library came from. */
  public enum Source {
    BUNDLED, SYSTEM, JAVA
  }

  private final Source source;
  private final String location;
  private final String version;
  private final String reason;
  private final BLAS blas;
  private final LAPACK lapack;

  private BlasLibrary(Source source, String location, String version, String reason, BLAS blas, LAPACK lapack) {
    this.source = source;
    this.location = location;
    this.version = version;
    this.reason = reason;
    this.blas = blas;
    this.lapack = lapack;
  }

  /**
   * Chooses, loads and logs the library (see the class comment). Call once per JVM, before anything else uses
   * netlib; {@link Blas} does. Throws {@link ArgumentException} for a bad {@value #PROPERTY} value and
   * {@link StateException} when a forced native library does not load.
   */
  static BlasLibrary load() {
    String choice = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    if (!List.of("auto", "bundled", "system", "java").contains(choice)) {
      throw new ArgumentException("System property " + PROPERTY + " has value '" + System.getProperty(PROPERTY)
          + "', expected one of auto, bundled, system, java");
    }
    if (choice.equals("java")) {
      BlasLibrary lib = new BlasLibrary(Source.JAVA, "netlib Java code", "-", PROPERTY + "=java",
          JavaBLAS.getInstance(), JavaLAPACK.getInstance());
      LOG.warn("BLAS/LAPACK: {} ({}: forced; about 8-10x slower than native for dsyrk/dsyevd)", lib.location,
          lib.reason);
      return lib;
    }
    boolean userPaths = System.getProperty(NETLIB_BLAS_PATH) != null || System.getProperty(NETLIB_BLAS_NAME) != null;
    String bundledPath = null;
    String bundledFailure = null;
    if (choice.equals("bundled") || (choice.equals("auto") && !userPaths)) {
      try {
        bundledPath = loadBundled();
        System.setProperty(NETLIB_BLAS_PATH, bundledPath);
        System.setProperty(NETLIB_LAPACK_PATH, bundledPath);
        System.clearProperty(NETLIB_BLAS_NAME);
        System.clearProperty(NETLIB_LAPACK_NAME);
      } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, IOException from the cache directory
        bundledFailure = t.getClass().getSimpleName() + ": " + t.getMessage();
        if (choice.equals("bundled")) {
          throw new StateException("The bundled OpenBLAS (" + PROPERTY + "=bundled) did not load on "
              + Loader.getPlatform() + ": " + bundledFailure, t);
        }
      }
    }
    BLAS blas = BLAS.getInstance();
    LAPACK lapack = LAPACK.getInstance();
    boolean nativeBlas = blas.getClass().getName().contains("JNI");
    boolean nativeLapack = lapack.getClass().getName().contains("JNI");
    List<String> mapped = mappedLibraries();

    if (bundledPath != null && nativeBlas && nativeLapack) {
      String resolved = realPath(bundledPath);
      List<String> others = new ArrayList<>();
      for (String m : mapped) {
        if (!m.equals(resolved)) {
          others.add(m);
        }
      }
      if (others.isEmpty()) {
        BlasLibrary lib = new BlasLibrary(Source.BUNDLED, bundledPath, bundledVersion(),
            choice.equals("bundled") ? PROPERTY + "=bundled" : "first choice", blas, lapack);
        LOG.info("BLAS/LAPACK: bundled OpenBLAS {} from {} ({}), core {}, {} threads", lib.version, lib.location,
            Loader.getPlatform(), lib.core(), lib.threads());
        lib.warnIfCoreForced();
        return lib;
      }
      // netlib had loaded another library before the properties were set (something used it earlier in this JVM).
      String why = "netlib was initialised before loraspace pointed it at the bundled OpenBLAS; mapped: " + others;
      if (choice.equals("bundled")) {
        throw new StateException("The bundled OpenBLAS (" + PROPERTY + "=bundled) is not the library netlib uses: "
            + why);
      }
      BlasLibrary lib = new BlasLibrary(Source.SYSTEM, String.join(", ", others), "unknown", why, blas, lapack);
      LOG.warn("BLAS/LAPACK: system library {} ({})", lib.location, why);
      return lib;
    }
    if (nativeBlas && nativeLapack) {
      String why = userPaths ? "netlib's nativeLib/nativeLibPath properties set by the user"
          : choice.equals("system") ? PROPERTY + "=system" : "bundled OpenBLAS not loaded: " + bundledFailure;
      String where = mapped.isEmpty() ? System.getProperty(NETLIB_BLAS_PATH,
          System.getProperty(NETLIB_BLAS_NAME, "libblas.so.3")) : String.join(", ", mapped);
      BlasLibrary lib = new BlasLibrary(Source.SYSTEM, where, "unknown", why, blas, lapack);
      LOG.warn("BLAS/LAPACK: system library {} ({}); its OpenBLAS version and core detection are the system's: "
          + "run `loraspace doctor` to see the measured rate", lib.location, why);
      return lib;
    }
    if (choice.equals("system")) {
      throw new StateException("No system BLAS/LAPACK (" + PROPERTY + "=system): netlib could not load "
          + System.getProperty(NETLIB_BLAS_NAME, "libblas.so.3") + " / "
          + System.getProperty(NETLIB_LAPACK_NAME, "liblapack.so.3") + " from the dynamic loader's path");
    }
    String why = (bundledFailure != null ? "bundled OpenBLAS not loaded: " + bundledFailure + "; "
        : bundledPath != null ? "netlib did not load the bundled OpenBLAS at " + bundledPath + "; " : "")
        + "no system libblas.so.3/liblapack.so.3";
    BlasLibrary lib = new BlasLibrary(Source.JAVA, "netlib Java code (" + blas.getClass().getSimpleName() + ", "
        + lapack.getClass().getSimpleName() + ")", "-", why, blas, lapack);
    LOG.warn("BLAS/LAPACK: {}, about 8-10x slower than native for dsyrk/dsyevd ({})", lib.location, why);
    return lib;
  }

  /** Loads the bundled OpenBLAS through JavaCPP and returns the path of the shared library netlib should open. */
  private static String loadBundled() throws IOException {
    Loader.load(openblas_nolapack.class);
    for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
      // JavaCPP names it "openblas_nolapack@.0": libopenblas.so.0 (BLAS and LAPACK) under the name the JNI links to.
      if (e.getKey().startsWith("openblas_nolapack@") && e.getValue() != null) {
        return e.getValue();
      }
    }
    throw new IOException("JavaCPP loaded " + Loader.getLoadedLibraries().keySet()
        + " but no OpenBLAS shared library among them");
  }

  private static String bundledVersion() {
    try {
      String v = Loader.getVersion("org.bytedeco", "openblas");
      if (v != null) {
        int dash = v.indexOf('-');
        return (dash > 0 ? v.substring(0, dash) : v) + " (org.bytedeco:openblas:" + v + ")";
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("No Maven metadata for org.bytedeco:openblas", e);
    }
    return "unknown";
  }

  private void warnIfCoreForced() {
    String forced = forcedCoreType();
    if (forced != null) {
      LOG.warn("OPENBLAS_CORETYPE={} in this JVM's environment forces the bundled OpenBLAS onto {} kernels instead of "
          + "the ones it detects for this CPU (up to 2x slower on newer CPUs); unset it to let it detect the CPU "
          + "(the loraspace launchers do, unless LORASPACE_OPENBLAS_CORETYPE is set)", forced, core());
    }
  }

  /** The library's shared objects mapped into this process ({@code /proc/self/maps}; empty where there is none). */
  public static List<String> mappedLibraries() {
    TreeSet<String> found = new TreeSet<>();
    Path maps = Path.of("/proc/self/maps");
    if (!Files.isReadable(maps)) {
      return List.of();
    }
    try {
      for (String line : Files.readAllLines(maps)) {
        int slash = line.indexOf('/');
        if (slash < 0) {
          continue;
        }
        String path = line.substring(slash).trim();
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.matches("lib(open)?blas.*\\.so.*|liblapack.*\\.so.*|libmkl_rt.*\\.so.*|libblis.*\\.so.*")
            && !name.startsWith("libnetlib") && !name.startsWith("libjniopenblas")) {
          found.add(path);
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    return List.copyOf(found);
  }

  private static String realPath(String p) {
    try {
      return Path.of(p).toRealPath().toString();
    } catch (IOException e) {
      return p;
    }
  }

  /** Where the library came from. */
  public Source source() {
    return source;
  }

  /** The shared library file (bundled), the mapped system library files, or "netlib Java code (…)". */
  public String location() {
    return location;
  }

  /** "0.3.31 (org.bytedeco:openblas:0.3.31-1.5.13)" for the bundled library; "unknown" for a system one. */
  public String version() {
    return version;
  }

  /** Why this library: "first choice", the forcing property, or what failed before it. */
  public String reason() {
    return reason;
  }

  BLAS blas() {
    return blas;
  }

  LAPACK lapack() {
    return lapack;
  }

  /**
   * The kernel set the bundled OpenBLAS runs (e.g. {@code HASWELL}, {@code SKYLAKEX}, {@code COOPERLAKE}): the
   * DYNAMIC_ARCH table its exported {@code gotoblas} pointer selects. "fixed at build" for a library without
   * DYNAMIC_ARCH (the arm64 build: ARMV8), "unknown" for system and Java libraries.
   */
  public String core() {
    if (source != Source.BUNDLED) {
      return "unknown";
    }
    Pointer slot = Loader.addressof("gotoblas");
    if (slot == null || slot.isNull()) {
      return "fixed at build (no DYNAMIC_ARCH)";
    }
    long table = new PointerPointer<Pointer>(slot).get(0).address();
    for (String name : X86_64_CORES) {
      Pointer p = Loader.addressof("gotoblas_" + name);
      if (p != null && !p.isNull() && p.address() == table) {
        return name;
      }
    }
    return "unknown";
  }

  /** {@code OPENBLAS_CORETYPE} from this process's environment when the bundled library obeys it, else null. */
  public String forcedCoreType() {
    String v = System.getenv("OPENBLAS_CORETYPE");
    return source == Source.BUNDLED && v != null && !v.isEmpty() ? v : null;
  }

  /** Threads the bundled OpenBLAS uses per call ({@code blas_cpu_number}); -1 where not known (system, Java). */
  public int threads() {
    if (source != Source.BUNDLED) {
      return -1;
    }
    Pointer p = Loader.addressof("blas_cpu_number");
    return p == null || p.isNull() ? -1 : new IntPointer(p).get();
  }

  /**
   * Sets the bundled OpenBLAS's threads per call, for the whole JVM ({@code openblas_set_num_threads}); call it
   * before tasks run BLAS, not during calls. Returns false, changing nothing, for system and Java libraries (a system
   * OpenBLAS reads {@code OPENBLAS_NUM_THREADS}).
   */
  public boolean setThreads(int threads) {
    if (threads < 1) {
      throw new ArgumentException("BLAS threads " + threads + ", expected at least 1");
    }
    if (source != Source.BUNDLED) {
      return false;
    }
    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
    return true;
  }

  /** One line for logs, manifests and the doctor report. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    b.append(source.name().toLowerCase(Locale.ROOT)).append(' ').append(location);
    if (source == Source.BUNDLED) {
      b.append(", OpenBLAS ").append(version).append(", core ").append(core()).append(", threads ").append(threads());
      if (forcedCoreType() != null) {
        b.append(" (core forced by OPENBLAS_CORETYPE=").append(forcedCoreType()).append(')');
      }
    } else {
      b.append(" (").append(reason).append(')');
    }
    return b.toString();
  }
}
