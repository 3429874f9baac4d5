# `docker compose` (the v2 CLI plugin), which runs the compose deployment in test/deploy/compose-e2e.test.ts. Debian
# bookworm ships only compose v1 (`docker-compose`, Python), so the plugin is built from the Go module proxy at
# COMPOSE_VERSION, cached, and linked into the Docker CLI's plugin folder. Its module cannot be `go install`ed (its
# go.mod has exclude directives), so a throwaway main module with the same requirements builds it. Without a Go
# toolchain, Debian's docker-compose v1 is used. Sets COMPOSE_BIN ("docker compose" or "docker-compose").
COMPOSE_VERSION="${AGENTS_COMPOSE_VERSION:-2.40.3}"

ensure_compose_plugin() {
  local dir="$AGENTS_CACHE_DIR/docker-compose-$COMPOSE_VERSION" plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  if [[ ! -x "$dir/docker-compose" ]] && command -v go >/dev/null 2>&1; then
    log "building docker compose v$COMPOSE_VERSION from the Go module proxy (minutes the first time)"
    build_compose_plugin "$dir" || log "docker compose did not build; falling back to docker-compose v1"
  fi
  if [[ -x "$dir/docker-compose" ]]; then
    mkdir -p "$plugins"
    [[ "$(readlink -f "$plugins/docker-compose" 2>/dev/null)" == "$dir/docker-compose" ]] ||
      ln -sf "$dir/docker-compose" "$plugins/docker-compose"
  fi
  if docker compose version >/dev/null 2>&1; then
    COMPOSE_BIN="docker compose"
  else
    command -v docker-compose >/dev/null 2>&1 || { is_root && apt_install docker-compose; } ||
      die "neither docker compose nor docker-compose is available"
    COMPOSE_BIN="docker-compose"
  fi
  log "compose: $COMPOSE_BIN ($($COMPOSE_BIN version --short 2>/dev/null || $COMPOSE_BIN version | head -1))"
}

build_compose_plugin() {
  local dir="$1" work module version="v$COMPOSE_VERSION"
  work="$(mktemp -d)"
  module="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$version" |
    sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')" || return 1
  [[ -f "$module" ]] || return 1
  {
    echo "module localbuild/compose"
    sed -n '/^go /p' "$module"
    echo "require github.com/docker/compose/v2 $version"
    sed -n '/^require/,$p' "$module"
  } >"$work/go.mod"
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
    -o "$work/docker-compose" github.com/docker/compose/v2/cmd) || return 1
  mkdir -p "$dir" && mv "$work/docker-compose" "$dir/docker-compose"
  rm -rf "$work"
}
