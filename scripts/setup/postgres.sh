# PostgreSQL server binaries (initdb, pg_ctl, postgres). With DATABASE_URL set, none are needed: that server is used.
# Otherwise the dev stack and the tests run a project-local cluster from these binaries. Debian keeps them off PATH.
ensure_postgres_binaries() {
  PG_BIN_DIR=""
  if [[ -n "${DATABASE_URL:-}" ]]; then
    log "PostgreSQL: using DATABASE_URL"
    return 0
  fi
  find_pg_bin() {
    local candidate
    if candidate="$(command -v initdb 2>/dev/null)"; then dirname "$(readlink -f "$candidate")"; return 0; fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
      [[ -x "$candidate/initdb" ]] && { echo "$candidate"; return 0; }
    done
    return 1
  }
  if ! PG_BIN_DIR="$(find_pg_bin)"; then
    is_root && command -v apt-get >/dev/null || die "PostgreSQL server binaries not found; install PostgreSQL or set DATABASE_URL"
    log "installing PostgreSQL from Debian packages"
    apt_install postgresql
    PG_BIN_DIR="$(find_pg_bin)" || die "PostgreSQL installed but initdb not found"
  fi
  log "PostgreSQL binaries: $PG_BIN_DIR ($("$PG_BIN_DIR/postgres" --version))"
}

# apt-get install with one `apt-get update` per setup run.
apt_install() {
  if [[ -z "${APT_UPDATED:-}" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
