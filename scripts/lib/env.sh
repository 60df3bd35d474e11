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
