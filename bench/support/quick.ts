// `bench/run.ts --quick`: every scenario at a small size (a few minutes in all, for a check before a release), its
// results written to a scratch folder, then each headline figure compared with the committed run (bench/results/) as
// a ratio quick / committed. Nothing is asserted: a quick run on a shared machine is a smoke test and a rough trend,
// not a measurement (the committed figures are).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { committedResultsDir } from './results.ts';

/** The small sizes (environment variables the scenarios read). */
export const quickSizes: Record<string, string> = {
  BENCH_P1_REPS: '3',
  BENCH_P2_TURNS: '20',
  BENCH_P3_TOOL_REPS: '20',
  BENCH_P4_SESSIONS: '500',
  BENCH_P4_UNTUNED_SESSIONS: '300',
  BENCH_P5_COUNT: '30',
  BENCH_P6_TURNS: '30',
  BENCH_P7_LEVELS: '5,10',
  BENCH_P8_SESSIONS: '10',
  BENCH_P8_CLIENTS_PER_SESSION: '5',
  BENCH_P8_ROUNDS: '1',
  BENCH_P8_ROUND_SECONDS: '2',
  BENCH_PEER_TURNS: '10',
  BENCH_PEER_STEP_RUNS: '2',
  BENCH_PEER_CONCURRENT: '10',
  BENCH_PEER_ROUNDS: '1',
};

export const quickResultsDir = () => mkdtempSync(join(tmpdir(), 'bench-quick-'));

/** The figures compared: percentiles, means, ratios and sizes, wherever they sit in a result file. */
const headline = /(^|\.)(p50|p95|mean|ratio|historyToContent|largestPayload|growthMb)$/;

function numericLeaves(value: unknown, path = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof value === 'number' && headline.test(path)) out.set(path, value);
  else if (Array.isArray(value)) value.forEach((item, index) => numericLeaves(item, `${path}[${index}]`, out));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) numericLeaves(item, path ? `${path}.${key}` : key, out);
  }
  return out;
}

/** Prints, per result file of the quick run, each headline figure beside the committed one and their ratio. */
export function compareWithCommitted(quickDir: string): void {
  for (const file of readdirSync(quickDir).filter((name) => name.endsWith('.json'))) {
    const committedFile = join(committedResultsDir, file);
    console.log(`\n${file.replace(/\.json$/, '')}`);
    if (!existsSync(committedFile)) {
      console.log('  (no committed result to compare with)');
      continue;
    }
    const quick = numericLeaves(JSON.parse(readFileSync(join(quickDir, file), 'utf8')));
    const committed = numericLeaves(JSON.parse(readFileSync(committedFile, 'utf8')));
    for (const [path, value] of quick) {
      const before = committed.get(path);
      if (before === undefined) continue;
      const ratio = before === 0 ? '—' : `${(value / before).toFixed(2)}×`;
      console.log(
        `  ${path.padEnd(56)} quick ${String(value).padStart(10)}  committed ${String(before).padStart(10)}  ${ratio}`,
      );
    }
  }
  console.log(`\nQuick results (not committed): ${quickDir}`);
}
