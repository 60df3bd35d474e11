package io.loraspace.common.linalg;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.lapack.LAPACK;

/**
 * The project's single door to BLAS and LAPACK, through {@code dev.ludovic.netlib} (the library Spark MLlib uses).
 * The native library behind it is chosen once per JVM by {@link BlasLibrary}: the OpenBLAS bundled in the jar, else
 * the system's {@code libblas.so.3}/{@code liblapack.so.3}, else netlib's Java code, logged with the reason.
 */
public final class Blas {
  private Blas() {}

  private static final class Holder {
    static final BlasLibrary LIBRARY = BlasLibrary.load();
  }

  /** The library in use, loading it on first call (see {@link BlasLibrary}). */
  public static BlasLibrary library() {
    return Holder.LIBRARY;
  }

  /** The BLAS implementation in use. */
  public static BLAS blas() {
    return Holder.LIBRARY.blas();
  }

  /** The LAPACK implementation in use. */
  public static LAPACK lapack() {
    return Holder.LIBRARY.lapack();
  }

  private static final Object F2J_LAPACK_LOCK = new Object();
  private static final ThreadLocal<Object> UNCONTENDED = ThreadLocal.withInitial(Object::new);

  /**
   * The monitor to hold around a LAPACK call. The pure-Java F2J fallback keeps state in static fields (translated
   * Fortran SAVE variables), so concurrent calls from several Spark task threads corrupt each other (seen as dsyevr
   * returning no eigenpairs): with F2J all calls share one lock. Native LAPACK is re-entrant: a per-thread object.
   */
  public static Object lapackLock() {
    return Holder.LIBRARY.lapack().getClass().getName().contains("JNI") ? UNCONTENDED.get() : F2J_LAPACK_LOCK;
  }

  /** True when both BLAS and LAPACK go to native code (bundled or system library). */
  public static boolean isNative() {
    return Holder.LIBRARY.source() != BlasLibrary.Source.JAVA;
  }

  /** One line naming the library, for manifests and logs. */
  public static String describe() {
    return Holder.LIBRARY.describe();
  }
}
