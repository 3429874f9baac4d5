// P4′'s result: bench/results/p4-idle-sessions.json and its README section, written at each checkpoint of the long
// run (marked partial, with what the figures so far extrapolate to) and once more at the end.
import { workerLaunch } from '../../workers/process-launch.ts';
import { memoryClassNames, type MemoryBreakdown, type MemoryClass } from './process-usage.ts';
import { writeResult } from './results.ts';
import { perSession, type SqliteFileSizes, type TableGrowth } from './storage-usage.ts';
import type { IdleCost } from './temporal-idle-cost.ts';

export interface Sample {
  sessions: number;
  rssMb: number;
  /** Since the baseline, pauses included. */
  seconds: number;
  /** Creation rate over the step that ended here (sessions per second of creating). */
  perSecond: number;
  /** Growth since the baseline of the Temporal dev server's SQLite files and of PostgreSQL's tables. */
  temporalBytes: number;
  postgresBytes: number;
  loadAverage?: number[];
}

export interface MemoryRun {
  launchSettings: boolean;
  inFlight: number;
  /** Right after start-up and a few sessions with a turn. */
  fresh: MemoryBreakdown;
  /** After a burst of sessions (3× the cache) that were created the same way and then deleted: 0 idle sessions. */
  baseline: MemoryBreakdown;
  samples: Sample[];
  sessions: number;
  errors: number;
  creatingSeconds: number;
  /** The rest is there once the run has reached its count. 30 s after the last session was created: */
  settled?: MemoryBreakdown;
  growthMb?: number;
  growthFromFreshMb?: number;
  growthByClassMb?: Record<MemoryClass, number>;
  /** CPU the worker spent per 1,000 sessions created (their first workflow task, then eviction). */
  cpuSecondsPerThousand?: number;
  postgres?: TableGrowth[];
  temporalFiles?: { before: SqliteFileSizes; after: SqliteFileSizes };
  idleCost?: IdleCost;
  workflowCache?: Record<string, number>;
}

export interface P4Run {
  total: number;
  cacheSize: number;
  warmUpSessions: number;
  inFlight: number;
  target: { growthMb: number; sessions: number };
  sandboxSessions: number;
  tuned: MemoryRun;
  untuned?: MemoryRun;
  containers?: { running: number; left: number };
}

const round = (value: number) => Math.round(value * 10) / 10;
const thousands = (value: number) => value.toLocaleString('en-US');

/**
 * From the samples so far to `total`: RSS at the slope of the last step between checkpoints (the workflow cache fills
 * in the first hundred sessions, so a line from the baseline would overstate it), storage per session so far, and the
 * minutes creation still needs.
 */
function extrapolation(run: MemoryRun, total: number) {
  const last = run.samples.at(-1)!;
  const before = run.samples.at(-2) ?? { sessions: 0, rssMb: run.baseline.rssMb };
  const slopeMbPerSession = (last.rssMb - before.rssMb) / Math.max(1, last.sessions - before.sessions);
  const rate = last.sessions / Math.max(1, run.creatingSeconds);
  return {
    fromSessions: last.sessions,
    toSessions: total,
    growthMb: round(last.rssMb - run.baseline.rssMb + slopeMbPerSession * (total - last.sessions)),
    lastStepMbPerThousand: round(slopeMbPerSession * 1000),
    temporalBytesPerSession: perSession(last.temporalBytes, last.sessions),
    postgresBytesPerSession: perSession(last.postgresBytes, last.sessions),
    minutesLeft: round((total - last.sessions) / rate / 60),
  };
}

export function writeP4Result(run: P4Run): void {
  const { tuned } = run;
  const complete = tuned.settled !== undefined && run.containers !== undefined;
  const estimate = complete ? undefined : extrapolation(tuned, run.total);
  const postgresBytes = (tuned.postgres ?? []).reduce((sum, table) => sum + table.bytes, 0);
  const temporalGrowth = tuned.temporalFiles && tuned.temporalFiles.after.total - tuned.temporalFiles.before.total;
  const summary = {
    postgresBytesPerSession: tuned.postgres ? perSession(postgresBytes, tuned.sessions) : undefined,
    temporalBytesPerSession: temporalGrowth === undefined ? undefined : perSession(temporalGrowth, tuned.sessions),
    sessionsPerSecond: round(tuned.sessions / Math.max(1, tuned.creatingSeconds)),
  };
  writeResult(
    'p4-idle-sessions',
    {
      complete,
      ...(estimate ? { extrapolation: estimate } : {}),
      ...run,
      ...summary,
      // Top-level figures read by the summary table.
      samples: tuned.samples,
      settled: { sessions: tuned.sessions, rssMb: tuned.settled?.rssMb ?? tuned.samples.at(-1)!.rssMb },
      growthMb: tuned.growthMb ?? round(tuned.samples.at(-1)!.rssMb - tuned.baseline.rssMb),
      runningAfterTimeout: run.containers?.running,
    },
    reportLines(run, complete, estimate, summary),
    `npm run bench -- p4 --sessions ${run.total}`,
  );
}

function reportLines(
  run: P4Run,
  complete: boolean,
  estimate: ReturnType<typeof extrapolation> | undefined,
  summary: { postgresBytesPerSession?: number; temporalBytesPerSession?: number; sessionsPerSecond: number },
): string[] {
  const { tuned, untuned } = run;
  const launch = workerLaunch.session;
  const launchText = [...launch.nodeFlags, ...Object.entries(launch.env).map(([k, v]) => `${k}=${v}`)].join(' ');
  const verdict =
    tuned.sessions < run.target.sessions
      ? `not reached: this run had ${thousands(tuned.sessions)}`
      : (tuned.growthMb ?? Infinity) <= run.target.growthMb
        ? 'met'
        : 'missed';
  return [
    '## P4′: idle sessions — worker memory, storage per session, containers after the idle timeout',
    '',
    ...(estimate
      ? [
          `**PARTIAL RESULT** (the run was at ${thousands(estimate.fromSessions)} of ${thousands(run.total)} ` +
            `sessions when this was written). Extrapolated to ${thousands(run.total)}, not a measurement: worker ` +
            `RSS growth ~${estimate.growthMb} MB (the last step's ${estimate.lastStepMbPerThousand} MB per 1,000 ` +
            `sessions onward), PostgreSQL ~${estimate.postgresBytesPerSession} B and ` +
            `Temporal ~${estimate.temporalBytesPerSession} B per session, ~${estimate.minutesLeft} more minutes of ` +
            'creation at the rate so far.',
          '',
        ]
      : []),
    `${thousands(tuned.sessions)} sessions were created as a user creates them — \`client.beta.sessions.create\` ` +
      `through the official SDK against the API (one agent, one environment; ${tuned.inFlight} requests in flight; ` +
      `${tuned.errors} failed requests, retried) — and left idle: ${summary.sessionsPerSecond} sessions/s over ` +
      `${round(tuned.creatingSeconds / 60)} minutes of creating. The session worker runs as its own process, ` +
      `launched as the platform launches it (workers/process-launch.ts: \`${launchText}\`) with ` +
      `AGENTS_SESSION_CACHE_SIZE=${run.cacheSize}. Before the measurement it runs 5 sessions with a turn and a ` +
      `burst of ${run.warmUpSessions} sessions created and then deleted, so the baseline is a worker that has ` +
      'worked, holding no idle session. Temporal is a dev server of the scenario’s own with its SQLite database in a ' +
      'file (`--db-filename`): its bytes are the file, its -wal and -shm. PostgreSQL bytes are pg_total_relation_size ' +
      '(heap, TOAST, indexes) of every table, growth from the baseline. RSS is read 3 s after each checkpoint.',
    '',
    '| idle sessions | worker RSS (MB) | seconds | sessions/s (step) | Temporal bytes | PostgreSQL bytes | load average |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...tuned.samples.map(
      (s) =>
        `| ${thousands(s.sessions)} | ${s.rssMb} | ${s.seconds} | ${s.perSecond} | ${thousands(s.temporalBytes)} | ` +
        `${thousands(s.postgresBytes)} | ${s.loadAverage?.join(' ') ?? ''} |`,
    ),
    ...(tuned.settled ? [`| ${thousands(tuned.sessions)} (30 s later) | ${tuned.settled.rssMb} | | | | | |`] : []),
    '',
    ...(complete
      ? [
          `Growth for ${thousands(tuned.sessions)} idle sessions: **${tuned.growthMb} MB** over the baseline ` +
            `(target ≤ ${run.target.growthMb} MB for ${thousands(run.target.sessions)} — **${verdict}**); ` +
            `${tuned.growthFromFreshMb} MB over the freshly started worker (${tuned.fresh.rssMb} MB). ` +
            `${tuned.cpuSecondsPerThousand} worker CPU seconds per 1,000 sessions created.`,
          '',
          ...storageLines(tuned, summary),
          '',
          ...idleCostLines(tuned, run.cacheSize),
          '',
          ...classLines(tuned, untuned),
          '',
          `${run.sandboxSessions} sessions ran a bash turn with idlePauseMs 1 s and idleSnapshotMs 3 s; 15 s later ` +
            `**${run.containers?.running} containers running** (${run.containers?.left} left in any state; target: ` +
            'none running).',
        ]
      : []),
  ];
}

function storageLines(
  tuned: MemoryRun,
  summary: { postgresBytesPerSession?: number; temporalBytesPerSession?: number },
): string[] {
  const files = tuned.temporalFiles!;
  return [
    `Storage per idle session: **PostgreSQL ${summary.postgresBytesPerSession} bytes**, **Temporal ` +
      `${summary.temporalBytesPerSession} bytes** (dev server SQLite: file ${thousands(files.before.db)} → ` +
      `${thousands(files.after.db)} B, WAL ${thousands(files.before.wal)} → ${thousands(files.after.wal)} B). ` +
      'PostgreSQL tables that grew:',
    '',
    '| table | bytes | live rows | bytes per session |',
    '| --- | --- | --- | --- |',
    ...(tuned.postgres ?? []).map(
      (t) => `| ${t.table} | ${thousands(t.bytes)} | ${thousands(t.rows)} | ${t.bytesPerSession} |`,
    ),
  ];
}

function idleCostLines(tuned: MemoryRun, cacheSize: number): string[] {
  const cost = tuned.idleCost;
  if (!cost) return [];
  const cache = Object.entries(tuned.workflowCache ?? {})
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  return [
    `What an idle session is in Temporal (${cost.sampled} sessions sampled across the run): an open workflow ` +
      `(${thousands(cost.openSessionWorkflows)} open on the queue) whose history is ${cost.historyEvents.min}–` +
      `${cost.historyEvents.max} events, ${cost.historyBytes.min}–${cost.historyBytes.max} bytes ` +
      `(${cost.eventTypes.join(', ')}); **${cost.pendingTimers} pending timers** and ${cost.pendingActivities} pending ` +
      'activities across the sample — an idle session without a sandbox waits on a condition, not a timer, so ' +
      'nothing fires while it idles. The worker keeps at most ' +
      `${cacheSize} workflows cached; the rest are evicted and replay from history on their next event ` +
      `(worker metrics at the end: ${cache || 'not read'}).`,
  ];
}

function classLines(tuned: MemoryRun, untuned: MemoryRun | undefined): string[] {
  if (!tuned.settled || !tuned.growthByClassMb) return [];
  const names = Object.keys(memoryClassNames) as MemoryClass[];
  const untunedCells = (name: MemoryClass) =>
    untuned?.settled && untuned.growthByClassMb
      ? ` ${untuned.baseline.classes[name]} | ${untuned.settled.classes[name]} | ${untuned.growthByClassMb[name]} |`
      : ' | | |';
  return [
    `Where it lives (MB resident; smaps classes, heuristic), with the launch settings and — for ` +
      `${untuned?.sessions ?? 0} sessions — the same worker started without them` +
      (untuned?.settled
        ? ` (${untuned.cpuSecondsPerThousand} CPU s per 1,000 without, ${tuned.cpuSecondsPerThousand} with):`
        : ':'),
    '',
    `| class | tuned baseline | tuned, ${tuned.sessions} idle | growth | untuned baseline | untuned, ${untuned?.sessions ?? 0} idle | growth |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...names.map(
      (name) =>
        `| ${memoryClassNames[name]} | ${tuned.baseline.classes[name]} | ${tuned.settled!.classes[name]} | ` +
        `${tuned.growthByClassMb![name]} |${untunedCells(name)}`,
    ),
    `| **total RSS** | ${tuned.baseline.rssMb} | ${tuned.settled.rssMb} | **${tuned.growthMb}** |` +
      (untuned?.settled
        ? ` ${untuned.baseline.rssMb} | ${untuned.settled.rssMb} | **${untuned.growthMb}** |`
        : ' | | |'),
  ];
}
