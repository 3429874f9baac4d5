# npm dependencies, reinstalled only when package-lock.json changes. npm's own cache (~/.npm) makes a reinstall cheap.
ensure_node_deps() {
  local stamp="node_modules/.install-stamp" want
  want="$(node --version) $({ cat package.json; cat package-lock.json 2>/dev/null || true; } | sha256sum | cut -c1-16)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "npm dependencies up to date"
    return 0
  fi
  log "installing npm dependencies"
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages (@swc/core-darwin-*, …) out of the
  # lock file it writes, and `npm ci` then refuses it as out of sync. `install` still follows the lock file's versions.
  npm install --no-audit --no-fund --prefer-offline
  echo "$want" >"$stamp"
}
