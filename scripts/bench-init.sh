#!/usr/bin/env bash
# SC-LoRA per-module eigensolve benchmark (docs/benchmarks.md): scripts/bench-init.sh [d] [r] [samples]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA_OPTS="${JAVA_OPTS:--Xmx8g}" exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.InitBenchmark "$@"
