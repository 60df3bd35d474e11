#!/usr/bin/env bash
# Creates the Python environment the tests use: <repo>/.venv with
#   - torch (CPU), transformers, peft, safetensors, pyarrow, numpy: the reference implementations of the interop tests,
#     the capture hook and the model worker; jinja2: renders the example Airflow DAGs in their test
#     and the capture hook;
#   - moto[server]: the S3-compatible server the s3a:// tests start (jobs/src/test/.../testing/MotoS3.java runs
#     <venv>/bin/python -m moto.server, never a moto_server found on the PATH).
# Everything comes from the machine's configured package sources: pip's configuration (index, extra indexes,
# find-links) and the packages of the base interpreter, which the venv sees (--system-site-packages; pip installs
# into the venv only what the base interpreter lacks or has at another pinned version).
# Idempotent: does nothing when the venv already has every package. The first run says what it installs and how long
# it took; when the sources lack a package it stops with one message naming what is missing.
# Python is never a runtime dependency of the Java jobs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LORASPACE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
INTEROP=(torch==2.13.0+cpu transformers==5.18.0 peft==0.21.0 safetensors pyarrow numpy attrs jinja2)
S3=('moto[server]')

# Prints the requirements the venv does not satisfy yet, one per line (nothing when it is complete).
missing() {
  "$VENV/bin/python" - <<'PY'
import importlib.metadata as m
pinned = {"torch": "2.13.0+cpu", "transformers": "5.18.0", "peft": "0.21.0"}
for name, version in pinned.items():
    try:
        if m.version(name) != version:
            print(f"{name}=={version}")
    except m.PackageNotFoundError:
        print(f"{name}=={version}")
for name in ("safetensors", "pyarrow", "numpy", "attrs", "jinja2"):
    try:
        m.version(name)
    except m.PackageNotFoundError:
        print(name)
try:
    m.version("moto")
    import moto.server  # noqa: F401  (the [server] extra: flask, flask-cors, werkzeug)
except Exception:
    print("moto[server]")
PY
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup-python: missing: a Python 3 interpreter ('$PYTHON' is not on the PATH; set PYTHON=...)" >&2
  exit 1
fi

if [ -x "$VENV/bin/python" ] && [ -z "$(missing 2>/dev/null || echo broken)" ]; then
  echo "setup-python: $VENV is ready"
  exit 0
fi

start=$SECONDS
# --upgrade rewrites pyvenv.cfg of an existing venv, so one made before moto was needed also sees the base packages.
"$PYTHON" -m venv --system-site-packages --upgrade "$VENV" 2>/dev/null || "$PYTHON" -m venv --system-site-packages "$VENV"
todo=$(missing)
if [ -z "$todo" ]; then
  # The venv only needed to see the base interpreter's packages (--upgrade above).
  echo "setup-python: $VENV is ready (base interpreter's packages made visible, $((SECONDS - start)) s)"
  exit 0
fi
echo "setup-python: installing into $VENV from the configured package sources: $(echo "$todo" | tr '\n' ' ')"
# --retries 0: an unreachable default index fails at once and pip goes on with the configured local sources.
log="$(mktemp)"
# shellcheck disable=SC2086
if ! "$VENV/bin/pip" install --disable-pip-version-check --retries 0 -q $(echo "$todo" | tr '\n' ' ') >"$log" 2>&1; then
  # Name exactly which requirements the sources cannot provide (pip stops at the first).
  unavailable=()
  while IFS= read -r req; do
    [ -z "$req" ] && continue
    if ! "$VENV/bin/pip" install --disable-pip-version-check --retries 0 -q --dry-run "$req" >/dev/null 2>&1; then
      unavailable+=("$req")
    fi
  done <<<"$todo"
  echo "setup-python: missing from the configured package sources: ${unavailable[*]:-(see the pip output below)}" \
    "(pip config: $("$VENV/bin/pip" config list 2>/dev/null | tr '\n' ' ')); base interpreter: $("$PYTHON" -c 'import sys; print(sys.prefix)')" >&2
  tail -n 5 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
left=$(missing)
if [ -n "$left" ]; then
  echo "setup-python: installed, but still not importable: $(echo "$left" | tr '\n' ' ')" >&2
  exit 1
fi
"$VENV/bin/python" -c "import torch, transformers, peft, safetensors, pyarrow, numpy, attr, moto; print('setup-python: ok: torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'moto', moto.__version__)"
echo "setup-python: done in $((SECONDS - start)) s"
