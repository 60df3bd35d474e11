# Shared shell functions for the launchers. Source it; it defines functions and exports OPENBLAS_CORETYPE.

# Debian's OpenBLAS 0.3.21 misdetects AVX-512 CPUs as "Prescott" and runs dgemm 3-4x slower (MACHINE.md).
# Pick a core type from the CPU flags unless the user set one.
loraspace_detect_coretype() {
  local flags
  flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
  if [[ "$flags" == *" avx512f "* ]]; then
    echo SkylakeX
  elif [[ "$flags" == *" avx2 "* ]]; then
    echo Haswell
  else
    echo ""
  fi
}

if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  _ct="$(loraspace_detect_coretype)"
  if [ -n "$_ct" ]; then export OPENBLAS_CORETYPE="$_ct"; fi
  unset _ct
fi

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
