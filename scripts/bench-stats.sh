#!/usr/bin/env bash
# stats end-to-end benchmark (docs/benchmarks.md): scripts/bench-stats.sh [workDir] [dim] [samples]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
JAVA_OPTS="${JAVA_OPTS:--Xmx8g} -Dlog4j2.configurationFile=$ROOT/conf/log4j2.properties" \
  exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.StatsBenchmark "$@"
