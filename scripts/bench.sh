#!/usr/bin/env bash
# Benchmarks (`npm run bench [-- p1 p2 p4 p5 p6]`): set up what is missing, then run bench/run.ts with Node >= 22.
# Results go to bench/results/ (JSON per figure + README.md).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"
bash scripts/setup.sh
use_node
exec node --import tsx bench/run.ts "$@"
