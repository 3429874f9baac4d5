# The sandbox image in two steps, each tagged by a hash of its recipe so it is rebuilt only when that recipe changes:
# the base rootfs (debootstrap, slow; scripts/sandbox-image/build-rootfs.sh + packages.txt), then the exec agent on top
# (docker build, about a second; agent.Dockerfile + sandbox-agent + sandbox_agent.py + sandbox_process.py). A changed
# agent reuses the base.
# Both are cached as tars in $AGENTS_CACHE_DIR, so a fresh Docker engine on a machine with the cache loads them instead
# of building.
# AGENTS_SANDBOX_IMAGE names an image to use as is (e.g. one built from the Dockerfile and pulled from a registry).
ensure_sandbox_image() {
  if [[ -n "${AGENTS_SANDBOX_IMAGE:-}" ]]; then
    SANDBOX_IMAGE="$AGENTS_SANDBOX_IMAGE"
    docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1 || die "AGENTS_SANDBOX_IMAGE=$SANDBOX_IMAGE is not on the Docker host"
    log "sandbox image: $SANDBOX_IMAGE (from AGENTS_SANDBOX_IMAGE)"
    return 0
  fi
  local recipe base_hash hash base archive
  recipe="$PROJECT_ROOT/scripts/sandbox-image"
  base_hash="$(cat "$recipe/build-rootfs.sh" "$recipe/packages.txt" | sha256sum | cut -c1-12)"
  hash="$(cat "$recipe/build-rootfs.sh" "$recipe/packages.txt" "$recipe/agent.Dockerfile" "$recipe/sandbox-agent" \
    "$recipe/sandbox_agent.py" "$recipe/sandbox_process.py" | sha256sum | cut -c1-12)"
  SANDBOX_IMAGE="agents-sandbox:agent-$hash"
  archive="$AGENTS_CACHE_DIR/sandbox-agent-image-$hash.tar"
  if docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1; then
    log "sandbox image: $SANDBOX_IMAGE (cached)"
  elif [[ -f "$archive" ]]; then
    log "sandbox image: loading $SANDBOX_IMAGE from $archive"
    docker load -i "$archive" >/dev/null
  else
    base="agents-sandbox:$base_hash"
    ensure_sandbox_base_image "$recipe" "$base" "$AGENTS_CACHE_DIR/sandbox-image-$base_hash.tar"
    log "sandbox image: adding the exec agent to $base"
    docker build -q --build-arg "BASE=$base" -f "$recipe/agent.Dockerfile" -t "$SANDBOX_IMAGE" "$recipe" >/dev/null
    rm -f "$AGENTS_CACHE_DIR"/sandbox-agent-image-*.tar
    docker save -o "$archive" "$SANDBOX_IMAGE"
  fi
  docker tag "$SANDBOX_IMAGE" agents-sandbox:latest
}

# The base rootfs image (no agent): from the Docker host, its cached tar, or debootstrap.
ensure_sandbox_base_image() {
  local recipe="$1" base="$2" archive="$3"
  docker image inspect "$base" >/dev/null 2>&1 && return 0
  if [[ -f "$archive" ]]; then
    log "sandbox image: loading $base from $archive"
    docker load -i "$archive" >/dev/null
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || { is_root && apt_install debootstrap; } ||
    die "debootstrap is needed to build the sandbox image (or set AGENTS_SANDBOX_IMAGE)"
  log "sandbox image: building $base with debootstrap (about a minute)"
  bash "$recipe/build-rootfs.sh" "$base" "${AGENTS_DEBIAN_SUITE:-bookworm}" \
    "${AGENTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  rm -f "$AGENTS_CACHE_DIR"/sandbox-image-*.tar
  docker save -o "$archive" "$base"
}
