#!/usr/bin/env bash
# README command 2: runs every test (unit tests, Python interop, s3a:// against a local moto server, integration tests
# against a standalone Spark cluster on loopback) from a clean clone. Needs only Java 17, Maven and Python 3: first it
# makes the project's Python venv complete (scripts/setup-python.sh: the interop packages and moto[server], from the
# configured package sources; it says what it installs and how long it took, or which package the sources lack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/env.sh
source "$ROOT/scripts/lib/env.sh"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
# OPENBLAS_CORETYPE stays as the environment sets it: the Python interop packages' own OpenBLAS may rely on it.
"$ROOT/scripts/setup-python.sh"
cd "$ROOT"
exec mvn -B verify "$@"
