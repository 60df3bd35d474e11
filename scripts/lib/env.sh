# Shared shell functions for the launchers. Source it; it only defines functions.

# The jobs run on the OpenBLAS bundled in the jar (docs/operations.md), built with DYNAMIC_ARCH: it picks its kernels
# from the CPU it runs on, unless OPENBLAS_CORETYPE forces a kernel set. An OPENBLAS_CORETYPE inherited from the
# environment (some machine images preset one for older OpenBLAS builds) would slow it on newer CPUs, so the launchers
# run the JVM without it; LORASPACE_OPENBLAS_CORETYPE is how a user asks for one explicitly (driver, and executors
# through loraspace-submit). Call this in the launcher, just before starting Java.
loraspace_blas_env() {
  if [ -n "${LORASPACE_OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE="$LORASPACE_OPENBLAS_CORETYPE"
  else
    unset OPENBLAS_CORETYPE
  fi
}

# The JVM options spark-submit gives a driver on Java 17 (Spark 4.0.1's JavaModuleOptions.defaultModuleOptions(); a test
# keeps this copy equal to it). The embedded launcher needs them too: Kryo and Spark's own code reflect into java.nio.
LORASPACE_JAVA_MODULE_OPTIONS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false \
-Dio.netty.tryReflectionSetAccessible=true"

loraspace_version() {
  sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml" | head -n 1
}

loraspace_job_jar() {
  echo "$ROOT/jobs/target/loraspace-jobs-$(loraspace_version).jar"
}

# Builds the project (no tests) when the job jar is missing or any source/pom is newer than it.
loraspace_ensure_built() {
  local jar
  jar="$(loraspace_job_jar)"
  if [ ! -f "$jar" ] || [ ! -f "$ROOT/jobs/target/embedded-classpath.txt" ] \
     || [ -n "$(find "$ROOT/pom.xml" "$ROOT/common" "$ROOT/jobs" \( -path '*/target' -o -path '*/target-*' \) -prune -o \
                  -type f \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$jar" -print -quit)" ]; then
    echo "loraspace: building (mvn -q -B -DskipTests package) ..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
  fi
}

loraspace_embedded_classpath() {
  echo "$(loraspace_job_jar):$(cat "$ROOT/jobs/target/embedded-classpath.txt")"
}
