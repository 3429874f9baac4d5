#!/usr/bin/env bash
# Python tools for the test suite: schemathesis (OpenAPI-driven fuzzing of the API, test/fuzz/api.test.ts), in a
# virtualenv cached under $AGENTS_CACHE_DIR and keyed by a hash of the pinned requirements below, so a second run is a
# stat and a change of pins builds a fresh one. Links the entry point into .tools/bin/schemathesis.
# Runs on its own (`bash scripts/setup/python-tools.sh`) or from scripts/setup.sh; skip with AGENTS_SKIP_PYTHON_TOOLS=1.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Every package pinned (pip freeze of a fresh install), so two machines fuzz with the same code.
read -r -d '' PYTHON_REQUIREMENTS <<'REQ' || true
anyio==4.16.0
certifi==2026.10.18
charset-normalizer==3.5.2
click==8.5.1
graphql-core==3.3.2
harfile==0.6.0
hypothesis==6.170.15
hypothesis-graphql==0.13.5
idna==3.20
iniconfig==2.3.1
jsonschema_rs==0.60.3
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
packaging==26.3
pluggy==1.7.0
Pygments==2.21.0
pyrate-limiter==4.5.1
pytest==9.2.0
PyYAML==6.0.3
requests==2.34.2
rich==15.0.0
schemathesis==4.32.5
sortedcontainers==2.4.0
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9
REQ

ensure_python_tools() {
  if [[ -n "${AGENTS_SKIP_PYTHON_TOOLS:-}" ]]; then
    log "python tools skipped (AGENTS_SKIP_PYTHON_TOOLS)"
    return 0
  fi
  local python
  python="$(command -v python3 || true)"
  if [[ -z "$python" ]] || ! "$python" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    if is_root && command -v apt-get >/dev/null; then
      log "installing python3 + venv (Debian)"
      apt-get install -y -q python3 python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3 python3-venv >/dev/null; }
      python="$(command -v python3)"
    else
      die "python3 >= 3.9 with the venv module is needed for schemathesis"
    fi
  fi
  local hash venv
  hash="$({ "$python" -c 'import sys; print(sys.version_info[:2])'; printf '%s' "$PYTHON_REQUIREMENTS"; } | sha256sum | cut -c1-12)"
  venv="$AGENTS_CACHE_DIR/venv-$hash"
  if [[ ! -x "$venv/bin/schemathesis" || ! -f "$venv/.complete" ]]; then
    log "creating python virtualenv with schemathesis in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    local requirements
    requirements="$(mktemp)"
    printf '%s\n' "$PYTHON_REQUIREMENTS" >"$requirements"
    # pip uses the system CA bundle (PIP_CERT / pip.conf) where the machine intercepts TLS.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
    rm -f "$requirements"
    touch "$venv/.complete"
  fi
  mkdir -p "$TOOLS_DIR/bin"
  ln -sfn "$venv/bin/schemathesis" "$TOOLS_DIR/bin/schemathesis"
  log "schemathesis: $TOOLS_DIR/bin/schemathesis ($("$venv/bin/schemathesis" --version 2>/dev/null | head -1))"
}

# The official Python SDK (`anthropic` from PyPI, pinned) for the Python client scenario (test/integration/python-sdk.test.ts),
# in a venv of its own so its dependencies never move schemathesis's pins. Linked as .tools/bin/python-anthropic.
PYTHON_SDK_REQUIREMENT="anthropic==2.14.0"
ensure_python_sdk() {
  if [[ -n "${AGENTS_SKIP_PYTHON_TOOLS:-}" ]]; then return 0; fi
  local python hash venv
  python="$(command -v python3)"
  hash="$({ "$python" -c 'import sys; print(sys.version_info[:2])'; printf '%s' "$PYTHON_SDK_REQUIREMENT"; } | sha256sum | cut -c1-12)"
  venv="$AGENTS_CACHE_DIR/venv-sdk-$hash"
  if [[ ! -f "$venv/.complete" ]]; then
    log "creating python virtualenv with $PYTHON_SDK_REQUIREMENT in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$PYTHON_SDK_REQUIREMENT"
    touch "$venv/.complete"
  fi
  # A wrapper, not a link: Python finds its venv from the path it was started by.
  rm -f "$TOOLS_DIR/bin/python-anthropic"
  printf '#!/bin/sh\nexec "%s/bin/python" "$@"\n' "$venv" >"$TOOLS_DIR/bin/python-anthropic"
  chmod +x "$TOOLS_DIR/bin/python-anthropic"
  log "python SDK: $TOOLS_DIR/bin/python-anthropic ($PYTHON_SDK_REQUIREMENT)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  mkdir -p "$AGENTS_CACHE_DIR"
  ensure_python_tools
  ensure_python_sdk
fi
