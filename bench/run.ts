// The benchmark command (`npm run bench`): runs every scenario in bench/scenarios (or those whose file name contains
// one of the arguments, e.g. `node --import tsx bench/run.ts p2 p6`) under vitest with bench/vitest.config.ts, which
// starts the same real Temporal dev server and PostgreSQL as the tests. Each scenario writes
// bench/results/<name>.json and its section of bench/results/README.md; the summary table on top is then rebuilt. The sandbox-claim benchmark
// (bench/sandbox-claim.ts) needs no Temporal and runs on its own.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeSummary } from './support/summary.ts';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2);
const result = spawnSync(
  join(root, 'node_modules', '.bin', 'vitest'),
  ['run', '--config', join(root, 'bench', 'vitest.config.ts'), ...filters],
  { cwd: root, stdio: 'inherit' },
);
writeSummary();
process.exit(result.status ?? 1);
