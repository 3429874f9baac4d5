# The Temporal CLI (dev server + UI). Uses `temporal` from PATH when present; otherwise builds the pinned release from
# the Go module proxy into the cache and links it into .tools/bin. Go's module and build caches make a rebuild fast.
ensure_temporal_cli() {
  mkdir -p "$TOOLS_DIR/bin"
  if [[ -z "${AGENTS_TEMPORAL_FROM_SOURCE:-}" ]] && command -v temporal >/dev/null 2>&1 &&
    [[ "$(readlink -f "$(command -v temporal)")" != "$(readlink -f "$TOOLS_DIR/bin/temporal" 2>/dev/null)" ]]; then
    TEMPORAL_BIN="$(command -v temporal)"
    log "temporal CLI from PATH: $TEMPORAL_BIN ($("$TEMPORAL_BIN" --version | head -1))"
    return 0
  fi
  local cached="$AGENTS_CACHE_DIR/temporal-$TEMPORAL_CLI_VERSION/temporal"
  if [[ ! -x "$cached" ]]; then
    command -v go >/dev/null 2>&1 || die "no temporal CLI on PATH and no Go toolchain to build it"
    log "building temporal CLI v$TEMPORAL_CLI_VERSION from the Go module proxy (a few minutes the first time)"
    mkdir -p "$(dirname "$cached")"
    (cd "$(mktemp -d)" && CGO_ENABLED=0 GOBIN="$(dirname "$cached")" GOFLAGS=-mod=mod \
      go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION")
  fi
  ln -sf "$cached" "$TOOLS_DIR/bin/temporal"
  TEMPORAL_BIN="$TOOLS_DIR/bin/temporal"
  log "temporal CLI: $TEMPORAL_BIN ($("$TEMPORAL_BIN" --version | head -1))"
}
