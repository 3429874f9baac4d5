// Shared by the scenarios: summary statistics, machine facts, and writing bench/results/<name>.json plus the
// scenario's own marked section of bench/results/README.md (other sections, e.g. sandbox-claim's, stay as they are).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/** The committed results. */
export const committedResultsDir = join(import.meta.dirname, '..', 'results');
/** Where this run writes: the committed results, or a scratch folder for `bench/run.ts --quick` (BENCH_RESULTS_DIR). */

export const resultsDir = process.env.BENCH_RESULTS_DIR ?? committedResultsDir;

export interface Stats {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return {
    n: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    min: round(sorted[0] ?? NaN),
    max: round(sorted.at(-1) ?? NaN),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
  };
}

/** The machine's load average (1, 5, 15 min) when the scenario's module was loaded, i.e. as its run began. */
const loadAtStart = loadavg();
const loadText = (load: number[]) => load.map((value) => value.toFixed(2)).join(' ');

export const ratio = (numerator: number, denominator: number) => round(numerator / denominator, 2);

export function machineFacts() {
  return {
    nproc: Number(execFileSync('nproc').toString().trim()),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3),
    node: process.version,
  };
}

export const statsRow = (name: string, s: Stats) =>
  `| ${name} | ${s.n} | ${s.p50} | ${s.p95} | ${s.min} | ${s.max} | ${s.mean} |`;
export const statsHeader = ['| ms | n | p50 | p95 | min | max | mean |', '| --- | --- | --- | --- | --- | --- | --- |'];

/** Writes the JSON result and replaces (or appends) the scenario's section in README.md. */
export function writeResult(
  name: string,
  result: object,
  markdownLines: string[],
  command = `node --import tsx bench/run.ts ${name}`,
): void {
  mkdirSync(resultsDir, { recursive: true });
  const machine = machineFacts();
  const load = { start: loadText(loadAtStart), end: loadText(loadavg()) };
  const full = { date: new Date().toISOString(), machine, loadAverage: load, ...result };
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(full, null, 2)}\n`);
  const section = [
    `<!-- ${name}:start -->`,
    ...markdownLines,
    '',
    `Run ${full.date} with \`${command}\` on ${machine.nproc} cores (${machine.cpuModel}), ` +
      `${machine.memoryGiB} GiB, Node ${machine.node}, load average (1/5/15 min) ${load.start} at the start and ` +
      `${load.end} at the end (a shared machine); raw figures in \`${name}.json\`.`,
    `<!-- ${name}:end -->`,
  ].join('\n');
  const readme = join(resultsDir, 'README.md');
  const existing = existsSync(readme)
    ? readFileSync(readme, 'utf8')
    : '# Benchmark results\n\nWritten by the scripts in bench/; each section is replaced when its script runs again.\n';
  const pattern = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  const next = pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`;
  writeFileSync(readme, next);
  console.log(section);
}
