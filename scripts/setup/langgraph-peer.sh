#!/usr/bin/env bash
# The peer for the side-by-side benchmark (bench/scenarios/peer-langgraph.bench.ts): LangGraph's local server
# (`langgraph dev`, langgraph-api on the in-memory runtime) and langchain-openai, from PyPI, in a virtualenv cached under
# $AGENTS_CACHE_DIR and keyed by a hash of the pins below (a second run is a stat; new pins build a fresh one).
# Links the CLI as .tools/bin/langgraph-peer and prints that path. Not part of setup.sh or the test path: the benchmark
# runs it on demand (`npm run bench -- peer`), or run it by hand: `bash scripts/setup/langgraph-peer.sh`.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Every package pinned (pip freeze of a fresh `langgraph-cli[inmem]==0.4.40 langchain-openai==1.7.4` install).
read -r -d '' PEER_REQUIREMENTS <<'REQ' || true
annotated-types==0.8.0
anyio==4.16.0
blockbuster==1.5.29
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
click==8.5.1
cloudpickle==3.1.3
croniter==7.0.0
cryptography==50.0.2
distro==1.9.0
forbiddenfruit==0.1.4
googleapis-common-protos==1.76.0
grpcio==1.81.2
grpcio-health-checking==1.81.1
grpcio-tools==1.81.1
h11==0.16.0
httpcore==1.0.9
httpcore2==2.16.2
httptools==0.9.0
httpx==0.28.1
httpx2==2.16.2
idna==3.20
jiter==0.19.0
jsonpatch==1.48
jsonpointer==3.12
jsonschema_rs==0.44.1
langchain-core==1.8.3
langchain-openai==1.7.4
langchain-protocol==0.0.20
langgraph==1.2.22
langgraph-api==0.16.7
langgraph-checkpoint==4.3.2
langgraph-prebuilt==1.1.3
langgraph-runtime-inmem==0.36.7
langgraph-sdk==0.4.14
langsmith==0.15.1
openai==3.57.0
opentelemetry-api==1.45.2
opentelemetry-exporter-http-transport==0.66b2
opentelemetry-exporter-otlp-common==0.66b2
opentelemetry-exporter-otlp-proto-common==1.45.2
opentelemetry-exporter-otlp-proto-http==1.45.2
opentelemetry-exporter-prometheus==0.66b2
opentelemetry-proto==1.45.2
opentelemetry-sdk==1.45.2
opentelemetry-semantic-conventions==0.66b2
orjson==3.13.0
ormsgpack==1.13.1
packaging==26.4
pathspec==1.1.1
prometheus_client==0.26.0
protobuf==6.33.6
pycparser==3.12
pydantic==2.14.4
pydantic_core==2.50.5
PyJWT==2.15.1
python-dateutil==4.0.0
python-dotenv==1.2.4
PyYAML==6.0.4
regex==2026.11.19
requests==2.34.2
requests-toolbelt==1.0.0
sniffio==1.3.1
sse-starlette==3.7.0
starlette==1.10.0
structlog==25.5.0
tenacity==9.2.1
tiktoken==0.14.0
truststore==0.10.5
typing-inspection==0.4.5
typing_extensions==4.16.0
tzdata==2026.6
urllib3==2.8.0
uuid_utils==0.19.0
uvicorn==0.54.0
uvloop==0.23.0
watchfiles==1.3.0
websockets==17.4
xxhash==4.1.0
zstandard==0.25.0
langgraph-cli[inmem]==0.4.40
REQ

ensure_langgraph_peer() {
  local python
  python="$(command -v python3 || true)"
  if [[ -z "$python" ]] || ! "$python" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    die "python3 >= 3.10 with the venv module is needed for the LangGraph peer"
  fi
  local hash venv
  hash="$({ "$python" -c 'import sys; print(sys.version_info[:2])'; printf '%s' "$PEER_REQUIREMENTS"; } | sha256sum | cut -c1-12)"
  venv="$AGENTS_CACHE_DIR/venv-langgraph-$hash"
  if [[ ! -x "$venv/bin/langgraph" || ! -f "$venv/.complete" ]]; then
    log "creating python virtualenv with langgraph-cli[inmem] + langchain-openai in $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    local requirements
    requirements="$(mktemp)"
    printf '%s\n' "$PEER_REQUIREMENTS" >"$requirements"
    # pip uses the system CA bundle (PIP_CERT / pip.conf) where the machine intercepts TLS.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
    rm -f "$requirements"
    touch "$venv/.complete"
  fi
  mkdir -p "$TOOLS_DIR/bin"
  # A link is enough: the entry point's shebang names the venv's own python.
  ln -sfn "$venv/bin/langgraph" "$TOOLS_DIR/bin/langgraph-peer"
  log "langgraph peer: $TOOLS_DIR/bin/langgraph-peer (langgraph-api $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("langgraph-api"))'))"
  printf '%s\n' "$TOOLS_DIR/bin/langgraph-peer"
}

mkdir -p "$AGENTS_CACHE_DIR"
ensure_langgraph_peer
