// The benchmark command (`npm run bench`): every P figure from one command. It runs the scenarios in bench/scenarios
// (or those whose file name contains one of the arguments, e.g. `node --import tsx bench/run.ts p2 p6`) under vitest
// with bench/vitest.config.ts, which starts the same real Temporal dev server and PostgreSQL as the tests, and P3, the
// sandbox claim (bench/sandbox-claim.ts: Docker only, so it runs on its own, first, while nothing else does; argument
// `p3` or `sandbox-claim`). Each writes bench/results/<name>.json and its section of bench/results/README.md; the
// summary table on top is then rebuilt. With `--quick`, every scenario (or the filtered ones) runs at a small size
// into a scratch folder and its figures are printed as ratios to the committed ones (bench/support/quick.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compareWithCommitted, quickResultsDir, quickSizes } from './support/quick.ts';
import { writeSummary } from './support/summary.ts';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** `--sessions N`: P4's count of idle sessions (BENCH_P4_SESSIONS), e.g. the long run `p4 --sessions 100000`. */
const sessionsAt = args.indexOf('--sessions');
const sessions = sessionsAt >= 0 ? args[sessionsAt + 1] : undefined;
const filters = args.filter(
  (arg, index) => arg !== '--quick' && (sessionsAt < 0 || (index !== sessionsAt && index !== sessionsAt + 1)),
);
const quickDir = quick ? quickResultsDir() : undefined;

const env = {
  ...process.env,
  ...(quickDir ? { ...quickSizes, BENCH_RESULTS_DIR: quickDir } : {}),
  ...(sessions ? { BENCH_P4_SESSIONS: sessions } : {}),
};
const claimFilters = ['p3', 'sandbox-claim'];
const runClaim = filters.length === 0 || filters.some((filter) => claimFilters.includes(filter));
const scenarioFilters = filters.filter((filter) => !claimFilters.includes(filter));
const runScenarios = filters.length === 0 || scenarioFilters.length > 0;

let status = 0;
if (runClaim) {
  const claim = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'sandbox-claim.ts')], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  status ||= claim.status ?? 1;
}
if (runScenarios) {
  const scenarios = spawnSync(
    join(root, 'node_modules', '.bin', 'vitest'),
    ['run', '--config', join(root, 'bench', 'vitest.config.ts'), ...scenarioFilters],
    { cwd: root, stdio: 'inherit', env },
  );
  status ||= scenarios.status ?? 1;
}
if (quickDir) compareWithCommitted(quickDir);
else writeSummary();
process.exit(status);
