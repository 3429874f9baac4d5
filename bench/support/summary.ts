// The summary table at the top of bench/results/README.md: each target, the figure last measured, met or missed.
// Built from the JSON files the scenarios wrote, so a partial run (`bench/run.ts p2`) keeps the other rows.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir } from './results.ts';

interface Percentiles {
  n: number;
  p50: number;
  p95: number;
}
/** The fields of each result file the summary reads (the files hold more). */
interface ResultFiles {
  'p2-first-delta': { firstDelta: Percentiles; backToBackFirstDelta?: Percentiles; settledPauseMs?: number };
  'p1-step-overhead': { ratio: number; spread: { min: number; max: number } };
  'p5-throughput': { ratio: number };
  'p6-long-history': { historyToContent: number; largestPayload: number };
  'p6-long-history-random': { historyToContent: number; largestPayload: number };
  'p4-idle-sessions': {
    growthMb: number;
    settled: { sessions: number };
    complete?: boolean;
    extrapolation?: { growthMb: number; toSessions: number };
    postgresBytesPerSession?: number;
    temporalBytesPerSession?: number;
    tuned?: { growthFromFreshMb: number };
    runningAfterTimeout?: number;
    sandboxSessions: number;
  };
  'p8-fan-out': {
    clientsOpened: number;
    sessions: number;
    loadAverage: string;
    api: { rssWithClientsMb: number };
    withoutSlowClient: { delivery: Percentiles; apiCpuPercent: number };
    withSlowClient: { delivery: Percentiles };
  };
  'p7-concurrency': {
    knee: number | null;
    levels: {
      sessions: number;
      completed: number;
      errors: number;
      wallSeconds: number;
      step: Percentiles;
      cpuMsPerTurn?: Record<string, number>;
      inProcess?: { step: Percentiles };
    }[];
  };
  'peer-langgraph': {
    firstToken: { ours: Percentiles; peer: Percentiles };
    perStep: { sides: Record<'ours' | 'peer-subprocess' | 'peer-docker', { step: Percentiles }> };
    sizes: { concurrent: number };
    throughput: Record<string, number>;
  };
  'sandbox-claim': {
    tool?: Percentiles;
    warm: { running: Percentiles; firstExec: Percentiles };
    cold: { running: Percentiles; firstExec: Percentiles };
  };
}

function read<Name extends keyof ResultFiles>(name: Name): ResultFiles[Name] | undefined {
  const file = join(resultsDir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ResultFiles[Name]) : undefined;
}
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

export function writeSummary(): void {
  const rows: string[] = [];
  const p2 = read('p2-first-delta');
  if (p2) {
    // Issue 19's second-round target (P2′): both modes, settled and back-to-back.
    const within = (figure: Percentiles) => figure.p50 <= 40 && figure.p95 <= 80;
    const backToBack = p2.backToBackFirstDelta;
    rows.push(
      `| user.message → first delta (P2′) | p50 ≤ 40 ms, p95 ≤ 80 ms, settled and back-to-back | settled p50 ${p2.firstDelta.p50} ms, p95 ${p2.firstDelta.p95} ms (n ${p2.firstDelta.n})` +
        (backToBack ? `; back-to-back p50 ${backToBack.p50} ms, p95 ${backToBack.p95} ms` : '') +
        ` | ${verdict(within(p2.firstDelta) && (backToBack === undefined || within(backToBack)))} |`,
    );
  }
  const p1 = read('p1-step-overhead');
  if (p1) {
    rows.push(
      `| per-step overhead vs in-process (P1′) | ≤ 1.10× | ${p1.ratio}× (spread ${p1.spread.min}–${p1.spread.max}×) | ${verdict(p1.ratio <= 1.1)} |`,
    );
  }
  const p5 = read('p5-throughput');
  if (p5) {
    rows.push(
      `| session + one turn throughput vs plain workflow (P5) | ≥ 0.5× | ${p5.ratio}× | ${verdict(p5.ratio >= 0.5)} |`,
    );
  }
  const p6 = read('p6-long-history');
  const p6Random = read('p6-long-history-random');
  if (p6) {
    rows.push(
      `| 300 turns × 10 KB: history / content, largest payload (P6′) | ≤ 1.5×, ≤ 256 KB | ${p6.historyToContent}×, ${Math.round(p6.largestPayload / 102.4) / 10} KB${p6Random ? `; random content ${p6Random.historyToContent}×` : ''} | ${verdict(p6.historyToContent <= 1.5 && p6.largestPayload <= 256 * 1024 && (!p6Random || p6Random.historyToContent <= 1.5))} |`,
    );
  }
  const p4 = read('p4-idle-sessions');
  if (p4) {
    const storage = `; ${p4.postgresBytesPerSession ?? '?'} B PostgreSQL, ${p4.temporalBytesPerSession ?? '?'} B Temporal per session`;
    rows.push(
      p4.complete === false || p4.extrapolation
        ? `| 100,000 idle sessions: worker memory growth (P4′) | ≤ 50 MB | PARTIAL: ${p4.growthMb} MB at ${p4.settled.sessions}, ~${p4.extrapolation?.growthMb ?? '?'} MB extrapolated to ${p4.extrapolation?.toSessions ?? '?'} | ${verdict((p4.extrapolation?.growthMb ?? Infinity) <= 50)} (extrapolated) |`
        : `| 100,000 idle sessions: worker memory growth (P4′) | ≤ 50 MB at 100,000 | ${p4.growthMb} MB measured at ${p4.settled.sessions}, over a worker that has worked (${p4.tuned?.growthFromFreshMb ?? '?'} MB over a fresh process)${storage} | ${verdict(p4.growthMb <= 50 && p4.settled.sessions >= 100_000)} |`,
    );
    if (p4.runningAfterTimeout !== undefined)
      rows.push(
        `| containers running after the idle timeout (P4) | 0 | ${p4.runningAfterTimeout} of ${p4.sandboxSessions} sessions | ${verdict(p4.runningAfterTimeout === 0)} |`,
      );
  }
  const claim = read('sandbox-claim');
  if (claim) {
    rows.push(
      `| sandbox claim p50 until running (P3) | warm ≤ 50 ms, cold ≤ 600 ms | warm ${claim.warm.running.p50} ms, cold ${claim.cold.running.p50} ms | ${verdict(claim.warm.running.p50 <= 50 && claim.cold.running.p50 <= 600)} |`,
    );
  }
  if (claim?.tool) {
    rows.push(
      `| sandbox tool round trip; claim / create to first command, p50 (P3′) | ≤ 5 ms; warm ≤ 20 ms, cold ≤ 150 ms | ${claim.tool.p50} ms (p95 ${claim.tool.p95}); warm ${claim.warm.firstExec.p50} ms, cold ${claim.cold.firstExec.p50} ms | ${verdict(claim.tool.p50 <= 5 && claim.warm.firstExec.p50 <= 20 && claim.cold.firstExec.p50 <= 150)} |`,
    );
  }
  const p8 = read('p8-fan-out');
  if (p8) {
    const [fast, slow] = [p8.withoutSlowClient.delivery, p8.withSlowClient.delivery];
    rows.push(
      `| ${p8.clientsOpened} SSE clients over ${p8.sessions} sessions, one API process: journal → client delivery p95 (P8) | ≤ 100 ms, a slow client delays no one | p95 ${fast.p95} ms; ${slow.p95} ms with a client that never reads; API ${p8.api.rssWithClientsMb} MB RSS, ${p8.withoutSlowClient.apiCpuPercent}% of a core (load ${p8.loadAverage}) | ${verdict(fast.p95 <= 100 && slow.p95 <= 100)} |`,
    );
  }
  const p7 = read('p7-concurrency');
  if (p7) {
    const last = p7.levels.at(-1)!;
    const allDone = p7.levels.every((level) => level.completed === level.sessions && level.errors === 0);
    rows.push(
      `| sessions at once, 10 steps each (P7) | 200, all complete, no errors; knee reported | ${p7.levels.map(p7Level).join('; ')}; knee ${p7.knee ?? 'not reached'} | ${verdict(last.sessions >= 200 && allDone)} |`,
    );
  }
  const peer = read('peer-langgraph');
  if (peer) {
    const steps = peer.perStep.sides;
    rows.push(
      `| the same agent on LangGraph’s local server, side by side (peer; in-memory, not durable) | reported, no target | ` +
        `first token p50 ours ${peer.firstToken.ours.p50} ms, peer ${peer.firstToken.peer.p50} ms; step p50 ours ` +
        `${steps.ours.step.p50} ms, peer ${steps['peer-subprocess'].step.p50} ms (host subprocess tool) / ` +
        `${steps['peer-docker'].step.p50} ms (\`docker exec\` tool); ${peer.sizes.concurrent} runs at once: ours ` +
        `${peer.throughput.ours} steps/s, peer ${peer.throughput['peer-subprocess']} / ${peer.throughput['peer-docker']} steps/s | reported |`,
    );
  }
  const section = [
    '<!-- summary:start -->',
    '## Summary (DESIGN.md performance targets)',
    '',
    'Every figure is measured in one run of its scenario on this machine; details, spreads and profiles below.',
    '`npm run bench` (= `node --import tsx bench/run.ts [p1 … p8]`) reruns all of them, or those named; `npm run bench -- --quick` runs a short version of each and prints ratios to these.',
    '',
    '| target | wanted | measured | verdict |',
    '| --- | --- | --- | --- |',
    ...rows,
    '<!-- summary:end -->',
  ].join('\n');
  const readme = join(resultsDir, 'README.md');
  const existing = readFileSync(readme, 'utf8');
  const pattern = /<!-- summary:start -->[\s\S]*<!-- summary:end -->/;
  const next = pattern.test(existing)
    ? existing.replace(pattern, section)
    : existing.replace(/\n\n/, `\n\n${section}\n\n`);
  writeFileSync(readme, next);
}

function p7Level(level: ResultFiles['p7-concurrency']['levels'][number]): string {
  const cpu = level.cpuMsPerTurn
    ? Object.entries(level.cpuMsPerTurn)
        .filter(([name]) => !name.includes('machine-wide'))
        .reduce((sum, [, ms]) => sum + (ms || 0), 0)
    : undefined;
  const inProcess = level.inProcess ? ` (in-process ${level.inProcess.step.p95} ms)` : '';
  const errors = level.errors > 0 ? `, ${level.errors} session.error` : '';
  return (
    `${level.sessions}: wall ${level.wallSeconds} s, step p95 ${level.step.p95} ms${inProcess}` +
    `${cpu !== undefined ? `, ${cpu} ms CPU/turn` : ''}${errors}`
  );
}
