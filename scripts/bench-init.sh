#!/usr/bin/env bash
# Per-module init solve benchmarks (docs/benchmarks.md):
#   scripts/bench-init.sh [d] [r] [samples]           SC-LoRA: top-r of ΔCov, full vs range vs Lanczos vs auto
#   scripts/bench-init.sh lora-da [d] [r] [tokens]    LoRA-DA: bottom-r of Ω, same comparison
#   scripts/bench-init.sh corda [d] [r] [tokens]      CorDA IPA/KPA and PiSSA: full SVD vs partial triplets (auto)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLASS=io.loraspace.jobs.bench.InitBenchmark
if [ "${1:-}" = "lora-da" ]; then
  CLASS=io.loraspace.jobs.bench.LoraDaBenchmark
  shift
elif [ "${1:-}" = "corda" ]; then
  CLASS=io.loraspace.jobs.bench.CordaBenchmark
  shift
fi
JAVA_OPTS="${JAVA_OPTS:--Xmx8g}" exec "$ROOT/scripts/loraspace-java" "$CLASS" "$@"
