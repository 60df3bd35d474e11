#!/usr/bin/env bash
# Creates the Python environment used by the interop tests and the capture hook: <repo>/.venv with torch (CPU),
# transformers, peft, safetensors, pyarrow and numpy from the machine's configured package sources (pip.conf).
# Idempotent: does nothing when the venv already has every package at the pinned version.
# Python is never a runtime dependency of the Java jobs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LORASPACE_VENV:-$ROOT/.venv}"
PACKAGES=(torch==2.13.0+cpu transformers==5.18.0 peft==0.21.0 safetensors pyarrow numpy attrs)
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m
want = {"torch": "2.13.0+cpu", "transformers": "5.18.0", "peft": "0.21.0"}
for name, version in want.items():
    assert m.version(name) == version, (name, m.version(name))
for name in ("safetensors", "pyarrow", "numpy", "attrs"):
    m.version(name)
PY
then
  echo "setup-python: $VENV is ready"
  exit 0
fi

echo "setup-python: creating $VENV (torch, transformers, peft, safetensors, pyarrow, numpy) ..."
"$PYTHON" -m venv "$VENV"
# --retries 0: an unreachable default index fails at once and pip goes on with the configured local sources.
"$VENV/bin/pip" install --disable-pip-version-check --retries 0 -q "${PACKAGES[@]}"
"$VENV/bin/python" -c "import torch, transformers, peft, safetensors, pyarrow, numpy, attr; print('setup-python: ok: torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__)"
