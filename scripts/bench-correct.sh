#!/usr/bin/env bash
# CSULoRA benchmark (docs/benchmarks.md): factored vs dense at one d×d module, and a collection sharing one subspace
# vs one by one. Runs from common's test classes (outside the product jar).
#   scripts/bench-correct.sh [d=4096] [r=16] [adapters=100] [one-by-one sample=3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/env.sh
source "$ROOT/scripts/lib/env.sh"
(cd "$ROOT" && mvn -q -B -pl common test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench-classpath.txt) >&2
CP="$ROOT/common/target/test-classes:$ROOT/common/target/classes:$(cat "$ROOT/common/target/bench-classpath.txt")"
loraspace_blas_env
exec java ${JAVA_OPTS:--Xmx6g} -cp "$CP" io.loraspace.common.correct.CorrectBenchmark "$@"
