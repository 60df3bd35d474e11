#!/usr/bin/env bash
# Recycle leave-one-out fold benchmark (docs/benchmarks.md): scripts/bench-recycle.sh [adapters] [d] [K] [folds]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAVA_OPTS="${JAVA_OPTS:--Xmx8g}" exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.RecycleBenchmark "$@"
