#!/usr/bin/env bash
# README command 2: runs every test (unit tests, Python interop, integration tests against a standalone Spark cluster
# on loopback) from a clean clone. Creates the Python venv first when it is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/env.sh
source "$ROOT/scripts/lib/env.sh"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
"$ROOT/scripts/setup-python.sh"
cd "$ROOT"
exec mvn -B verify "$@"
