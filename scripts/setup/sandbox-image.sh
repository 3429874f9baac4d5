# The sandbox base image, tagged by a hash of its recipe so it is rebuilt only when the recipe changes.
# AGENTS_SANDBOX_IMAGE names an image to use as is (e.g. one built from the Dockerfile and pulled from a registry).
ensure_sandbox_image() {
  if [[ -n "${AGENTS_SANDBOX_IMAGE:-}" ]]; then
    SANDBOX_IMAGE="$AGENTS_SANDBOX_IMAGE"
    docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1 || die "AGENTS_SANDBOX_IMAGE=$SANDBOX_IMAGE is not on the Docker host"
    log "sandbox image: $SANDBOX_IMAGE (from AGENTS_SANDBOX_IMAGE)"
    return 0
  fi
  local recipe hash
  recipe="$PROJECT_ROOT/scripts/sandbox-image"
  hash="$(cat "$recipe/build-rootfs.sh" "$recipe/packages.txt" | sha256sum | cut -c1-12)"
  SANDBOX_IMAGE="agents-sandbox:$hash"
  if docker image inspect "$SANDBOX_IMAGE" >/dev/null 2>&1; then
    log "sandbox image: $SANDBOX_IMAGE (cached)"
  else
    local archive="$AGENTS_CACHE_DIR/sandbox-image-$hash.tar"
    if [[ -f "$archive" ]]; then
      log "sandbox image: loading $SANDBOX_IMAGE from $archive"
      docker load -i "$archive" >/dev/null
    else
      command -v debootstrap >/dev/null 2>&1 || { is_root && apt_install debootstrap; } ||
        die "debootstrap is needed to build the sandbox image (or set AGENTS_SANDBOX_IMAGE)"
      log "sandbox image: building $SANDBOX_IMAGE with debootstrap (about a minute)"
      bash "$recipe/build-rootfs.sh" "$SANDBOX_IMAGE" "${AGENTS_DEBIAN_SUITE:-bookworm}" \
        "${AGENTS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
      rm -f "$AGENTS_CACHE_DIR"/sandbox-image-*.tar
      docker save -o "$archive" "$SANDBOX_IMAGE"
    fi
  fi
  docker tag "$SANDBOX_IMAGE" agents-sandbox:latest
}
