#!/usr/bin/env bash
# Partial vs full symmetric eigensolve benchmark (docs/benchmarks.md): scripts/bench-eigen.sh [d] [k...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA_OPTS="${JAVA_OPTS:--Xmx8g}" exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.EigenBenchmark "$@"
