package io.loraspace.common.linalg;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.lapack.LAPACK;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The project's single door to BLAS and LAPACK, through {@code dev.ludovic.netlib} (the library Spark MLlib uses).
 * When the machine has a native {@code libblas.so.3}/{@code liblapack.so.3} (e.g. Debian's
 * {@code libopenblas0-pthread}) the JNI backend is used; otherwise netlib falls back to Java code, which is several
 * times slower for the level-3 kernels. The active backend is logged once, with a warning on the Java fallback and
 * when OpenBLAS runs without {@code OPENBLAS_CORETYPE} (Debian's OpenBLAS 0.3.21 misdetects AVX-512 CPUs).
 */
public final class Blas {
  private static final Logger LOG = LoggerFactory.getLogger(Blas.class);

  private Blas() {}

  private static final class Holder {
    static final BLAS BLAS_INSTANCE = BLAS.getInstance();
    static final LAPACK LAPACK_INSTANCE = LAPACK.getInstance();

    static {
      String b = BLAS_INSTANCE.getClass().getName();
      String l = LAPACK_INSTANCE.getClass().getName();
      boolean nativeBlas = b.contains("JNI");
      boolean nativeLapack = l.contains("JNI");
      LOG.info("Linear algebra backend: BLAS={}, LAPACK={}", b, l);
      if (!nativeBlas || !nativeLapack) {
        LOG.warn(
            "Native BLAS/LAPACK not loaded: falling back to Java code (about 8-10x slower for dsyrk/dsyevd). "
                + "Install libopenblas0-pthread (apt-get install -y libopenblas0-pthread).");
      } else if (System.getenv("OPENBLAS_CORETYPE") == null) {
        LOG.warn(
            "OPENBLAS_CORETYPE is not set: Debian's OpenBLAS may misdetect this CPU and run 3-4x slower. "
                + "The loraspace launchers set it; set it yourself when starting the JVM another way.");
      }
    }
  }

  /** The BLAS implementation in use. */
  public static BLAS blas() {
    return Holder.BLAS_INSTANCE;
  }

  /** The LAPACK implementation in use. */
  public static LAPACK lapack() {
    return Holder.LAPACK_INSTANCE;
  }

  private static final Object F2J_LAPACK_LOCK = new Object();
  private static final ThreadLocal<Object> UNCONTENDED = ThreadLocal.withInitial(Object::new);

  /**
   * The monitor to hold around a LAPACK call. The pure-Java F2J fallback keeps state in static fields (translated
   * Fortran SAVE variables), so concurrent calls from several Spark task threads corrupt each other (seen as dsyevr
   * returning no eigenpairs): with F2J all calls share one lock. Native LAPACK is re-entrant: a per-thread object.
   */
  public static Object lapackLock() {
    return Holder.LAPACK_INSTANCE.getClass().getName().contains("JNI") ? UNCONTENDED.get() : F2J_LAPACK_LOCK;
  }

  /** True when both BLAS and LAPACK go to native code. */
  public static boolean isNative() {
    return blas().getClass().getName().contains("JNI") && lapack().getClass().getName().contains("JNI");
  }

  /** One line naming the backends, for manifests and logs. */
  public static String describe() {
    return "blas=" + blas().getClass().getSimpleName() + ", lapack=" + lapack().getClass().getSimpleName()
        + ", OPENBLAS_CORETYPE=" + System.getenv().getOrDefault("OPENBLAS_CORETYPE", "(unset)");
  }
}
