# A Docker engine: DOCKER_HOST or the default socket when it answers; otherwise, as root on Debian, install docker.io and
# start dockerd in the background (it stays up as a system daemon; its log is in the cache folder).
ensure_docker_engine() {
  if docker_answers; then
    log "Docker engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null)"
    return 0
  fi
  [[ -n "${DOCKER_HOST:-}" ]] && die "DOCKER_HOST=$DOCKER_HOST does not answer"
  is_root || die "no Docker engine answers on /var/run/docker.sock; start one or set DOCKER_HOST"
  if ! command -v dockerd >/dev/null 2>&1; then
    command -v apt-get >/dev/null || die "no Docker engine and no apt-get to install one"
    log "installing docker.io from Debian packages"
    apt_install docker.io
  fi
  log "starting dockerd"
  local logfile="$AGENTS_CACHE_DIR/dockerd.log"
  (setsid nohup dockerd >"$logfile" 2>&1 &)
  for _ in $(seq 1 60); do
    docker_answers && break
    sleep 0.5
  done
  docker_answers || die "dockerd did not come up; see $logfile"
  log "Docker engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) started"
}

docker_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

# `docker compose` (v2 plugin) or `docker-compose` (Debian's v1), used to validate docker-compose.yml.
ensure_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then return 0; fi
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing docker-compose from Debian packages (to validate docker-compose.yml)"
    apt_install docker-compose
  else
    log "no docker compose available; the compose validation test will be skipped"
  fi
}

# The egress proxy's relay into a sandbox's network namespace: nsenter (util-linux) and socat on the Docker host.
ensure_egress_tools() {
  if command -v socat >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1; then return 0; fi
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing socat (the sandbox egress relay) from Debian packages"
    apt_install socat util-linux
  else
    log "socat or nsenter missing: sandboxes with limited networking and allowed hosts cannot be created"
  fi
}
