#!/usr/bin/env bash
# The compose deployment's images, built here without a registry (docker-compose.yml; `npm run test:compose`):
#   temporal-agents-base:<hash>      Debian minbase + socat + PostgreSQL 15 (scripts/images/base-rootfs.sh, debootstrap;
#                                    cached as a tar like the sandbox base)
#   temporal-agents-deps:<hash>      base + the pinned Node + production npm dependencies (npm ci --omit=dev, cached)
#   temporal-agents:<hash>           deps + the app (./Dockerfile)
#   temporal-agents-temporal:<hash>  base + temporal-server, temporal-sql-tool, schemas, generated config
#   temporal-agents-postgres:<hash>  base + postgres-entrypoint.sh
#   agents-sandbox:agent-<hash>      the sandbox image (scripts/setup/sandbox-image.sh)
# Each tag is a hash of what goes into the image, so an unchanged image is not rebuilt. Each is also tagged with the
# stable name docker-compose.yml defaults to; the exact tags go to .tools/compose-env (the test uses those, so parallel
# worktrees with different code never run each other's images). Idempotent. Run: `bash scripts/setup/compose-images.sh`.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$PROJECT_ROOT"
use_node
source scripts/setup/docker-engine.sh
source scripts/setup/sandbox-image.sh
source scripts/setup/temporal-server.sh # builds or finds temporal-server (TEMPORAL_SERVER_VERSION)
source scripts/setup/compose-plugin.sh

hash_of() { cat "$@" | sha256sum | cut -c1-12; }
# Content hash of files and folders (paths and bytes), stable across clones.
hash_tree() { find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# docker build, quiet: the legacy builder's deprecation notice is noise here; its output is shown when a build fails.
docker_build() {
  local output
  output="$(docker build -q "$@" 2>&1)" || { printf '%s\n' "$output" >&2; die "docker build $* failed"; }
}

ensure_base_image() {
  local hash archive
  hash="$(hash_of scripts/images/base-rootfs.sh scripts/images/base-packages.txt)"
  BASE_IMAGE="temporal-agents-base:$hash"
  archive="$AGENTS_CACHE_DIR/compose-base-image-$hash.tar"
  have_image "$BASE_IMAGE" && return 0
  if [[ -f "$archive" ]]; then
    log "compose images: loading $BASE_IMAGE from $archive"
    docker load -i "$archive" >/dev/null
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || { is_root && apt_install debootstrap; } ||
    die "debootstrap is needed to build the compose base image"
  log "compose images: building $BASE_IMAGE with debootstrap (a few minutes)"
  bash scripts/images/base-rootfs.sh "$BASE_IMAGE" "${AGENTS_DEBIAN_SUITE:-bookworm}" \
    "${AGENTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  rm -f "$AGENTS_CACHE_DIR"/compose-base-image-*.tar
  docker save -o "$archive" "$BASE_IMAGE"
}

ensure_deps_image() {
  local node_bin hash staging
  node_bin="$(command -v node)"
  hash="$( (echo "$BASE_IMAGE" && node --version && cat package.json package-lock.json scripts/images/deps.Dockerfile) |
    sha256sum | cut -c1-12)"
  DEPS_IMAGE="temporal-agents-deps:$hash"
  have_image "$DEPS_IMAGE" && return 0
  staging="$AGENTS_CACHE_DIR/compose-deps-$hash"
  if [[ ! -f "$staging/.complete" ]]; then
    log "compose images: npm ci --omit=dev for the platform image"
    rm -rf "$AGENTS_CACHE_DIR"/compose-deps-* && mkdir -p "$staging"
    cp package.json package-lock.json "$staging/"
    (cd "$staging" && npm ci --omit=dev --no-audit --no-fund --prefer-offline >/dev/null)
    touch "$staging/.complete"
  fi
  cp "$node_bin" "$staging/node"
  log "compose images: building $DEPS_IMAGE"
  docker_build --build-arg "BASE=$BASE_IMAGE" -f scripts/images/deps.Dockerfile -t "$DEPS_IMAGE" "$staging"
}

# The top-level entries of the platform image's build context: all but what .dockerignore (top-level names) leaves out.
platform_context() {
  local ignored entry
  ignored="$(grep -v '^#' .dockerignore | grep -v '^$' | sed 's|/$||')"
  for entry in * .[!.]*; do
    [[ -e "$entry" ]] || continue
    grep -qxF "$entry" <<<"$ignored" || echo "$entry"
  done
}

ensure_platform_image() {
  local hash
  # shellcheck disable=SC2046 # one word per top-level entry
  hash="$( (echo "$DEPS_IMAGE" && hash_tree $(platform_context)) | sha256sum | cut -c1-12)"
  PLATFORM_IMAGE="temporal-agents:$hash"
  have_image "$PLATFORM_IMAGE" && return 0
  log "compose images: building $PLATFORM_IMAGE"
  docker_build --build-arg "DEPS_IMAGE=$DEPS_IMAGE" -t "$PLATFORM_IMAGE" .
}

ensure_temporal_image() {
  local server_dir="$AGENTS_CACHE_DIR/temporal-server-$TEMPORAL_SERVER_VERSION" config hash context
  config="$(mktemp -d)"
  node --import tsx scripts/images/temporal-config.ts "$config"
  hash="$( (echo "$BASE_IMAGE $TEMPORAL_SERVER_VERSION" && hash_tree "$config" scripts/images/temporal.Dockerfile \
    scripts/images/temporal-entrypoint.sh scripts/images/temporal-schema.sh) | sha256sum | cut -c1-12)"
  TEMPORAL_IMAGE="temporal-agents-temporal:$hash"
  if ! have_image "$TEMPORAL_IMAGE"; then
    log "compose images: building $TEMPORAL_IMAGE (Temporal server $TEMPORAL_SERVER_VERSION)"
    context="$(mktemp -d)"
    cp -l "$server_dir/temporal-server" "$server_dir/temporal-sql-tool" "$context/" 2>/dev/null ||
      cp "$server_dir/temporal-server" "$server_dir/temporal-sql-tool" "$context/"
    cp -r "$server_dir/schema" "$context/schema"
    cp -r "$config" "$context/config"
    cp scripts/images/temporal-entrypoint.sh scripts/images/temporal-schema.sh "$context/"
    docker_build --build-arg "BASE=$BASE_IMAGE" -f scripts/images/temporal.Dockerfile -t "$TEMPORAL_IMAGE" \
      "$context"
    rm -rf "$context"
  fi
  rm -rf "$config"
}

ensure_postgres_image() {
  local hash
  hash="$( (echo "$BASE_IMAGE" && cat scripts/images/postgres.Dockerfile scripts/images/postgres-entrypoint.sh) |
    sha256sum | cut -c1-12)"
  POSTGRES_IMAGE="temporal-agents-postgres:$hash"
  have_image "$POSTGRES_IMAGE" && return 0
  log "compose images: building $POSTGRES_IMAGE"
  docker_build --build-arg "BASE=$BASE_IMAGE" -f scripts/images/postgres.Dockerfile -t "$POSTGRES_IMAGE" \
    scripts/images
}

ensure_compose_images() {
  ensure_docker_engine
  ensure_compose_plugin
  ensure_sandbox_image
  ensure_base_image
  ensure_deps_image
  ensure_platform_image
  ensure_temporal_image
  ensure_postgres_image
  # The stable names docker-compose.yml defaults to.
  docker tag "$PLATFORM_IMAGE" temporal-agents:latest
  docker tag "$TEMPORAL_IMAGE" "temporal-agents-temporal:$TEMPORAL_SERVER_VERSION"
  docker tag "$POSTGRES_IMAGE" temporal-agents-postgres:15
  mkdir -p "$TOOLS_DIR"
  cat >"$TOOLS_DIR/compose-env" <<ENV
# Written by scripts/setup/compose-images.sh; the images docker-compose.yml runs (read by test/deploy/compose-e2e.test.ts).
AGENTS_PLATFORM_IMAGE=$PLATFORM_IMAGE
AGENTS_TEMPORAL_IMAGE=$TEMPORAL_IMAGE
AGENTS_POSTGRES_IMAGE=$POSTGRES_IMAGE
AGENTS_SANDBOX_IMAGE=$SANDBOX_IMAGE
COMPOSE_BIN=$COMPOSE_BIN
ENV
  log "compose images: $PLATFORM_IMAGE $TEMPORAL_IMAGE $POSTGRES_IMAGE $SANDBOX_IMAGE"
}

ensure_compose_images
