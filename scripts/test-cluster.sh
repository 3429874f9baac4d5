#!/usr/bin/env bash
# The cluster profile (`npm run test:cluster`): the integration suite's core — sessions, API, worker faults, and a history
# process SIGKILLed mid-session — against a Temporal cluster (frontend, matching, worker and two history processes on
# PostgreSQL; scripts/services/temporal-cluster.ts) instead of the dev server. On demand, not part of `npm test`/CI.
# Extra arguments replace the default file list.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
bash scripts/setup.sh
bash scripts/setup/temporal-server.sh
use_node
files=(
  test/integration/session-engine.test.ts
  test/integration/api-sdk.test.ts
  test/integration/api-errors.test.ts
  test/integration/api-user-events.test.ts
  test/faults/worker-kill.test.ts
  test/faults/history-kill.test.ts
)
[[ $# -gt 0 ]] && files=("$@")
log "vitest against a Temporal cluster: ${files[*]}"
AGENTS_TEST_TEMPORAL=cluster exec npx vitest run "${files[@]}"
