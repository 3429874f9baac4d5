#!/usr/bin/env bash
# Shared settings for the setup, dev-stack and test scripts. Source it; it defines no side effects beyond variables and PATH.
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROJECT_ROOT

# Pinned versions. Changing one of these rebuilds only the affected cache entry.
NODE_VERSION="${AGENTS_NODE_VERSION:-24.21.0}"
TEMPORAL_CLI_VERSION="${AGENTS_TEMPORAL_CLI_VERSION:-1.5.1}"

# Caches live outside the clone so a fresh clone (CI) reuses them; project-local links point into them.
AGENTS_CACHE_DIR="${AGENTS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/temporal-agents}"
TOOLS_DIR="$PROJECT_ROOT/.tools"
export AGENTS_CACHE_DIR TOOLS_DIR

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

node_arch() {
  case "$(uname -m)" in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "unsupported CPU architecture $(uname -m)" ;;
  esac
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Puts a Node >= 22 first on PATH: the system one when new enough, else Node $NODE_VERSION from the npm registry's
# node-linux-<arch> package (a plain binary, no install script), cached.
use_node() {
  local system_node
  system_node="$(command -v node || true)"
  if [[ -n "$system_node" && "$(node_major "$system_node")" -ge 22 && -z "${AGENTS_FORCE_PINNED_NODE:-}" ]]; then
    return 0
  fi
  local dir="$AGENTS_CACHE_DIR/node-$NODE_VERSION"
  local bin="$dir/node_modules/node-linux-$(node_arch)/bin"
  if [[ ! -x "$bin/node" ]]; then
    command -v npm >/dev/null || die "npm is needed to fetch Node $NODE_VERSION"
    log "installing Node $NODE_VERSION from the npm registry into $dir"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-save --no-package-lock --loglevel=error "node-linux-$(node_arch)@$NODE_VERSION" >/dev/null)
    [[ -x "$bin/node" ]] || die "Node $NODE_VERSION did not install"
  fi
  export PATH="$bin:$PATH"
}

# npm prints a warning for every unknown key in ~/.npmrc on some machines; keep logs readable.
export npm_config_loglevel="${npm_config_loglevel:-error}"
export npm_config_update_notifier=false
