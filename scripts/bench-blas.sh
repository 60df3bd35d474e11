#!/usr/bin/env bash
# BLAS libraries side by side (docs/benchmarks.md): bundled OpenBLAS (CPU detected, and forced to Haswell), the system
# libblas.so.3/liblapack.so.3 (when the loader finds one; LD_LIBRARY_PATH may point at an extracted copy), netlib's
# Java code; dsyrk and dsyevd rates, ratios to the bundled library, and concurrent calls at 1 vs 2 threads per call.
#   scripts/bench-blas.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$ROOT/scripts/loraspace-java" io.loraspace.jobs.bench.BlasBenchmark "$@"
