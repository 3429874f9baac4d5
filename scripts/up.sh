#!/usr/bin/env bash
# Quick start (`npm run up`): set up what is missing, then run the whole stack in the foreground — Temporal dev server
# + UI, PostgreSQL, the session/model/sandbox workers, the API and (without a model API key) the fake model server —
# and a demo session. Ctrl-C stops everything; data stays in .data/ for the next start.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
bash scripts/setup.sh
use_node
exec node --import tsx scripts/dev.ts "$@"
