#!/usr/bin/env bash
# Statistics-accumulation benchmark (docs/benchmarks-gram.md): TokenGramAccumulator vs raw native dsyrk and vs Spark
# MLlib RowMatrix, one line per figure. Takes a few minutes; the machine is shared, so only same-run ratios count.
#   scripts/bench-gram.sh [--dims 1024,4096] [--block-rows 512] [--reps 3] [--mllib true|false]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_OPTS="${JAVA_OPTS:--Xmx6g}"
exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.GramBenchmark "$@"
