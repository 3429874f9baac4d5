#!/usr/bin/env bash
# The Temporal server (`temporal-server`) and its SQL schema tool (`temporal-sql-tool`) for the cluster profile
# (`npm run test:cluster`, scripts/services/temporal-cluster.ts). Built from the Go module proxy at the server version the
# pinned Temporal CLI embeds, into the cache next to the CLI, with the server module's PostgreSQL schema files copied
# beside them. Idempotent and keyed by version; not part of scripts/setup.sh (the default test path uses the dev server).
# Run it directly: `bash scripts/setup/temporal-server.sh`. Writes TEMPORAL_SERVER_DIR into .tools/cluster-env.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$PROJECT_ROOT"

# The version github.com/temporalio/cli@v$TEMPORAL_CLI_VERSION requires (its go.mod); override to try another.
TEMPORAL_SERVER_VERSION="${AGENTS_TEMPORAL_SERVER_VERSION:-1.29.1}"

ensure_temporal_server() {
  local dir="$AGENTS_CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION"
  if [[ ! -x "$dir/temporal-server" || ! -x "$dir/temporal-sql-tool" || ! -f "$dir/schema/postgresql/v12/temporal/schema.sql" ]]; then
    command -v go >/dev/null 2>&1 || die "no Go toolchain to build the Temporal server"
    log "building temporal-server and temporal-sql-tool v$TEMPORAL_SERVER_VERSION from the Go module proxy (minutes the first time)"
    local build
    build="$(mktemp -d)"
    (cd "$build" && CGO_ENABLED=0 GOBIN="$build/bin" GOFLAGS=-mod=mod nice -n 10 \
      go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION")
    local module
    module="$(go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
    mkdir -p "$dir/schema/postgresql"
    rm -rf "$dir/schema/postgresql/v12"
    cp -r "$module/schema/postgresql/v12" "$dir/schema/postgresql/v12"
    chmod -R u+w "$dir/schema"
    mv "$build/bin/server" "$dir/temporal-server"
    mv "$build/bin/sql" "$dir/temporal-sql-tool"
    rm -rf "$build"
  fi
  mkdir -p "$TOOLS_DIR"
  printf '# Written by scripts/setup/temporal-server.sh; read by the cluster profile.\nTEMPORAL_SERVER_DIR=%s\n' "$dir" \
    >"$TOOLS_DIR/cluster-env"
  log "temporal-server: $dir/temporal-server ($("$dir/temporal-server" --version 2>&1 | head -1))"
}

ensure_temporal_server
