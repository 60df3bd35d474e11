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

# Builds the project (no tests) when the job jar is missing or any source/pom is newer than it, including the model
# worker's Python files that the job jar carries (jobs/pom.xml: scripts/capture/{model_worker,capture_hooks}.py).
loraspace_ensure_built() {
  local jar
  jar="$(loraspace_job_jar)"
  if [ ! -f "$jar" ] || [ ! -f "$ROOT/jobs/target/embedded-classpath.txt" ] \
     || [ -n "$(find "$ROOT/pom.xml" "$ROOT/common" "$ROOT/jobs" \( -path '*/target' -o -path '*/target-*' \) -prune -o \
                  -type f \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$jar" -print -quit)" ] \
     || [ -n "$(find "$ROOT/scripts/capture" -maxdepth 1 -type f \( -name model_worker.py -o -name capture_hooks.py \) \
                  -newer "$jar" -print -quit)" ]; then
    echo "loraspace: building (mvn -q -B -DskipTests package) ..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
  fi
}

loraspace_embedded_classpath() {
  echo "$(loraspace_job_jar):$(cat "$ROOT/jobs/target/embedded-classpath.txt")"
}

# JVM options for the embedded launcher's runs, which are one short-lived JVM: C2 thresholds ×10 (C2 otherwise spends
# a core compiling start-up code after it has run) and transparent huge pages for the heap where the kernel gives them
# on request ("madvise"). Why and what they measured: docs/operations.md, "JIT and memory for one-JVM runs". Printed
# for the launcher to put before JAVA_OPTS, so a user's own -XX options win; LORASPACE_JVM_TUNING=off prints nothing.
loraspace_jvm_tuning_options() {
  if [ "${LORASPACE_JVM_TUNING:-on}" = "off" ]; then
    return 0
  fi
  local o="-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=20000 -XX:Tier4CompileThreshold=60000 \
-XX:Tier4BackEdgeThreshold=400000"
  if grep -q '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
    o="$o -XX:+UseTransparentHugePages"
  fi
  echo "$o"
}

# JVM options for a class-data-sharing (AppCDS) archive of the embedded classpath: the JVM maps the classes it would
# otherwise read and verify from ~200 jars, which halves the start of a local Spark context (docs/operations.md). The
# archive is written once per build (a `doctor` run, ~10 s, in a temporary directory) under jobs/target/cds/, keyed by
# the classpath and the job jar's and the java binary's size and time; a stale or unreadable archive is never used
# (the JVM would only warn and run without it). LORASPACE_CDS=off disables it. Prints the options (nothing when there
# is no archive).
loraspace_cds_options() {
  if [ "${LORASPACE_CDS:-on}" = "off" ]; then
    return 0
  fi
  local jar cp key dir archive tmp out
  jar="$(loraspace_job_jar)"
  cp="$(loraspace_embedded_classpath)"
  # The JVM binary by path, size and time, not by `java -version` (a second JVM start on every launch).
  local java_bin
  java_bin="$(command -v java)"
  # Every step may fail without stopping the launcher (it runs under set -e): no archive is then used.
  key="$( { printf '%s\n' "$cp"; stat -L -c '%n %s %Y' "$jar" "$java_bin" "$(readlink -f "$java_bin")"; } \
          | cksum | cut -d' ' -f1)" || return 0
  dir="$ROOT/jobs/target/cds"
  archive="$dir/loraspace-$key.jsa"
  if [ ! -s "$archive" ]; then
    mkdir -p "$dir" || return 0
    tmp="$dir/.loraspace-$key.jsa.$$"
    out="$(mktemp -d "${TMPDIR:-/tmp}/loraspace-cds.XXXXXX")" || return 0
    echo "loraspace: writing the class-data archive for faster start-up (once per build) ..." >&2
    # shellcheck disable=SC2086
    if SPARK_LOCAL_IP=127.0.0.1 java $LORASPACE_JAVA_MODULE_OPTIONS -Xmx1g -XX:ArchiveClassesAtExit="$tmp" \
         -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" -cp "$cp" io.loraspace.jobs.Main doctor \
         --set out="$out/doctor" >/dev/null 2>&1 && [ -s "$tmp" ]; then
      find "$dir" -maxdepth 1 -name 'loraspace-*.jsa' ! -name "loraspace-$key.jsa" -delete 2>/dev/null || true
      mv -f "$tmp" "$archive" || rm -f "$tmp"
    else
      echo "loraspace: could not write the class-data archive; starting without it" >&2
      rm -f "$tmp"
    fi
    rm -rf "$out"
  fi
  if [ -s "$archive" ]; then
    echo "-XX:SharedArchiveFile=$archive -Xshare:auto"
  fi
}
