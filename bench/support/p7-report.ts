// P7's result: the JSON and the README section (bench/scenarios/p7-concurrency.bench.ts measures).
import { readFileSync } from 'node:fs';
import { ratio, writeResult, type Stats } from './results.ts';

export interface WorkerLatencies {
  /** Mean ms a workflow task waited in the session queue for the session worker. */
  workflowTaskScheduleToStartMs: number | null;
  workflowTaskExecutionMs: number | null;
  workflowTaskReplayMs: number | null;
  stickyCacheMisses: number;
  modelActivityScheduleToStartMs: number | null;
  sandboxActivityScheduleToStartMs: number | null;
}

export interface Level {
  sessions: number;
  wallSeconds: number;
  completed: number;
  errors: number;
  errorMessages: string[];
  /** The errored sessions' timed-out activities (history timestamps). */
  timeouts?: string[];
  step: Stats;
  historyEventsPerTurn: number;
  workflowTasksPerTurn: number;
  /** History events of a one-turn session by type, mean per session. */
  historyByType: Record<string, number>;
  cpuSeconds: Record<string, number>;
  cpuMsPerTurn: Record<string, number>;
  workerLatencies: WorkerLatencies;
  /** The three workers' requests to the Temporal server per turn, by operation (polls not included). */
  requestsPerTurn?: Record<string, number>;
  loadAverage: { start: string; end: string };
  inProcess: {
    wallSeconds: number;
    errors: number;
    step: Stats;
    cpuMsPerTurn: Record<string, number>;
    loadAverageEnd: string;
  };
}

export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The run's own processes: dockerd and containerd are machine-wide, shared with whatever else runs on the machine. */
const total = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .filter(([name]) => !name.includes('machine-wide'))
    .reduce((sum, [, ms]) => sum + (ms || 0), 0);

/** The first level whose step p95 is at least twice the first level's. */
export function kneeOf(levels: Level[], pick: (level: Level) => number): number | null {
  const base = pick(levels[0]!);
  return levels.find((level) => pick(level) >= 2 * base)?.sessions ?? null;
}

export function writeP7Result(
  results: Level[],
  shape: { steps: number; modelLatencyMs: number; workerLimits: 'lifted' | 'defaults' },
): void {
  const knee = kneeOf(results, (level) => level.step.p95);
  const inProcessKnee = kneeOf(results, (level) => level.inProcess.step.p95);
  const names = Object.keys(results[0]!.cpuMsPerTurn);
  const head = `| ${results.map((level) => `${level.sessions}`).join(' | ')} |`;
  const rule = `| --- | ${results.map(() => '---').join(' | ')} |`;
  const row = (name: string, cell: (level: Level) => string | number | null) =>
    `| ${name} | ${results.map((level) => cell(level) ?? '–').join(' | ')} |`;
  const types = Object.keys(results.at(-1)!.historyByType);
  const operations = Object.keys(results.at(-1)!.requestsPerTurn ?? {});
  writeResult(
    'p7-concurrency',
    { levels: results, ...shape, knee, inProcessKnee },
    [
      '## P7: concurrency',
      '',
      `N sessions at once, each one turn of ${shape.steps} steps (fake model ${shape.modelLatencyMs} ms before its ` +
        'answer, then a bash call in the session’s own sandbox container) and a final answer; levels one after ' +
        'another on fresh sessions (so each level includes its containers’ cold start). Session, model and sandbox ' +
        'workers each in their own process (as deployed); fake model and driver in the benchmark process; sessions ' +
        'driven through the Temporal client (no API in the path). Step = the time between successive journal marks ' +
        '(status_running, each tool_result, the final idle; workflow clock). In-process = the same model calls and ' +
        'the same DockerSandbox.exec in N concurrent plain loops in one process (a container each, created first), ' +
        'run right after the platform level. ' +
        (shape.workerLimits === 'lifted'
          ? 'The workers’ own limits are lifted (200 model and 200 sandbox slots, no provider rate limit; ' +
            '`BENCH_P7_CAPPED=1` keeps the defaults, under which a model worker starts at most 20 calls/s).'
          : 'The workers run with their default limits (20 model and 20 sandbox slots, 20 model calls/s started ' +
            'per provider).'),
      '',
      `| sessions ${head}`,
      rule,
      row('completed (end_turn)', (level) => level.completed),
      row('session.error', (level) => level.errors),
      row('wall, platform', (level) => `${level.wallSeconds} s`),
      row('wall, in-process', (level) => `${level.inProcess.wallSeconds} s`),
      row('steps / s, platform', (level) => perSecond(level.sessions * shape.steps, level.wallSeconds)),
      row('steps / s, in-process', (level) => perSecond(level.sessions * shape.steps, level.inProcess.wallSeconds)),
      row('step p50, platform', (level) => `${level.step.p50} ms`),
      row('**step p95, platform**', (level) => `**${level.step.p95} ms**`),
      row('step p50, in-process', (level) => `${level.inProcess.step.p50} ms`),
      row('step p95, in-process', (level) => `${level.inProcess.step.p95} ms`),
      row('p95 platform / in-process', (level) => `${ratio(level.step.p95, level.inProcess.step.p95)}×`),
      row('history events / turn', (level) => level.historyEventsPerTurn),
      row('workflow tasks / turn', (level) => level.workflowTasksPerTurn),
      row('load average at start', (level) => level.loadAverage.start),
      row('load average at end', (level) => level.loadAverage.end),
      '',
      'CPU per turn by process (ms of CPU per session’s 10-step turn, over the level):',
      '',
      `| process ${head}`,
      rule,
      ...names.map((name) => row(name, (level) => level.cpuMsPerTurn[name] ?? null)),
      row('**total, platform (without machine-wide)**', (level) => `**${total(level.cpuMsPerTurn)}**`),
      row('total, in-process (without machine-wide)', (level) => total(level.inProcess.cpuMsPerTurn)),
      '',
      'Where tasks waited (worker metrics, mean ms over the level):',
      '',
      `| ms ${head}`,
      rule,
      row('workflow task schedule-to-start (session worker)', (l) => l.workerLatencies.workflowTaskScheduleToStartMs),
      row('workflow task execution', (level) => level.workerLatencies.workflowTaskExecutionMs),
      row('workflow task replay', (level) => level.workerLatencies.workflowTaskReplayMs),
      row('sticky cache misses (count)', (level) => level.workerLatencies.stickyCacheMisses),
      row('model activity schedule-to-start', (l) => l.workerLatencies.modelActivityScheduleToStartMs),
      row('sandbox activity schedule-to-start', (l) => l.workerLatencies.sandboxActivityScheduleToStartMs),
      '',
      'Requests to the Temporal server per turn, by operation (the three workers’ `temporal_request` metric; ' +
        'long polls not included):',
      '',
      `| request ${head}`,
      rule,
      ...operations.map((operation) => row(operation, (level) => level.requestsPerTurn?.[operation] ?? 0)),
      '',
      'History events of a one-turn session by type (mean per session):',
      '',
      `| event ${head}`,
      rule,
      ...types.map((type) => row(type, (level) => level.historyByType[type] ?? 0)),
      '',
      ...results
        .filter((level) => level.errorMessages.length > 0)
        .map((level) => `session.error at ${level.sessions}: ${level.errorMessages.join('; ')}`),
      // A model call timed out with no heartbeat recorded was lost on its way to the worker and retried unannounced.
      ...results.flatMap((level) => (level.timeouts ?? []).map((line) => `- timed out at ${level.sessions}: ${line}`)),
      knee
        ? `Knee (step p95 at least twice the ${results[0]!.sessions}-session level's): **${knee} sessions**.`
        : `Knee: step p95 did not double up to ${results.at(-1)!.sessions} sessions.`,
      `In-process knee: ${inProcessKnee ?? 'none'} .`,
    ],
    `BENCH_P7_LEVELS=${results.map((level) => level.sessions).join(',')} npm run bench -- p7`,
  );
}

function perSecond(count: number, seconds: number): string {
  return seconds > 0 ? `${Math.round((count / seconds) * 10) / 10}` : '–';
}
