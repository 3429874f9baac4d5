#!/usr/bin/env bash
# One idempotent, cached setup for a fresh machine: Node >= 22, npm dependencies, the Temporal CLI, PostgreSQL binaries,
# a Docker engine and the sandbox image. Each step is skipped when its result is already there.
# Writes .tools/env, which the dev stack and the tests read. Steps can be skipped with AGENTS_SKIP_<STEP>=1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
mkdir -p "$TOOLS_DIR" "$AGENTS_CACHE_DIR"
started=$SECONDS

use_node
log "node $(node --version) at $(command -v node)"

source scripts/setup/node-deps.sh
source scripts/setup/temporal-cli.sh
source scripts/setup/postgres.sh
source scripts/setup/docker-engine.sh
source scripts/setup/sandbox-image.sh

ensure_node_deps
ensure_temporal_cli
ensure_postgres_binaries
ensure_docker_engine
ensure_compose
ensure_egress_tools
ensure_sandbox_image
source scripts/setup/chromium.sh && ensure_chromium # headless browser for test/browser/ui.test.ts (optional)
bash scripts/setup/python-tools.sh # schemathesis for test/fuzz/api.test.ts

cat >"$TOOLS_DIR/env" <<ENV
# Written by scripts/setup.sh; read by the dev stack and the test harness.
NODE_BIN=$(command -v node)
TEMPORAL_BIN=$TEMPORAL_BIN
PG_BIN_DIR=$PG_BIN_DIR
SANDBOX_IMAGE=$SANDBOX_IMAGE
ENV
log "setup done in $((SECONDS - started)) s"
