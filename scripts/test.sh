#!/usr/bin/env bash
# The test command (`npm test`): set up whatever is missing, check types, lint, then run the whole suite against a real
# Temporal dev server, PostgreSQL and Docker engine. Extra arguments go to vitest (e.g. a file filter).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
bash scripts/setup.sh
use_node
if [[ $# -eq 0 ]]; then
  log "typecheck + lint"
  npx tsc --noEmit
  npx eslint --max-warnings=0 .
  npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
fi
log "vitest"
exec npx vitest run "$@"
