// P7: concurrency. N sessions active at once (BENCH_P7_LEVELS, default 20,50,100,200, one level after the other on
// fresh sessions), each one turn of 10 steps — a model call (the fake model answers after 50 ms) and a bash call in
// the session's sandbox — and a final answer. Every session must end its turn with end_turn and no session.error.
// The session worker runs as its own process (workers/process-launch.ts); the model and sandbox workers, the fake
// model and the driver in this one; sessions are driven through the Temporal client (as in P4), so no API is in the
// path. Per level: wall time, step-latency percentiles (journal timestamps), workflow tasks and history events per
// turn, and CPU by process, to say what saturates first.
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, inject, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { agentSnapshot, fastSettings, turnEnds, WorkflowSession } from '../../test/support/workflow-session.ts';
import { startWorkerProcess } from '../../test/support/worker-processes.ts';
import { cpuSpent, readCpu, type CpuSources } from '../support/cpu-by-process.ts';
import { stats, writeResult, type Stats } from '../support/results.ts';

const levels = (process.env.BENCH_P7_LEVELS ?? '20,50,100,200').split(',').map(Number);
const steps = 10;
const modelLatencyMs = 50;

let platform: TestPlatform;
let sessionWorker: ManagedProcess;
let sources: CpuSources;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p7', workers: ['model', 'sandbox'] });
  sessionWorker = await startWorkerProcess('session', { prefix: platform.prefix });
  sources = {
    temporalPort: Number(new URL(`http://${inject('temporalAddress')}`).port),
    postgresPort: Number(new URL(inject('databaseUrl')).port),
    pids: {
      'session worker': sessionWorker.child.pid!,
      'model + sandbox workers, fake model, driver (bench process)': process.pid,
    },
  };
});
afterAll(async () => {
  await sessionWorker?.stop('SIGKILL');
  await platform?.stop();
});

const at = (event: SessionEvent) => Date.parse(event.processed_at ?? '');

/** Step boundaries: the turn's status_running, each tool result, the final idle. */
function stepLatencies(events: SessionEvent[]): number[] {
  const marks = events
    .filter((event) => ['session.status_running', 'agent.tool_result', 'session.status_idle'].includes(event.type))
    .map(at);
  return marks.slice(1).map((mark, index) => mark - marks[index]!);
}

async function historyCounts(session: WorkflowSession) {
  const history = await session.handle.fetchHistory();
  const type = temporal.api.enums.v1.EventType;
  const events = history.events ?? [];
  return {
    events: events.length,
    workflowTasks: events.filter((event) => event.eventType === type.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length,
  };
}

interface Level {
  sessions: number;
  wallSeconds: number;
  completed: number;
  errors: number;
  step: Stats;
  historyEventsPerTurn: Stats;
  workflowTasksPerTurn: Stats;
  cpuSeconds: Record<string, number>;
  cpuPercentOfACore: Record<string, number>;
  loadAverage: string;
}

async function runLevel(count: number): Promise<Level> {
  const created: WorkflowSession[] = [];
  for (let index = 0; index < count; index++) {
    const model = `${platform.prefix}-p7-${count}-${index}`;
    platform.fakeModel.setScript(model, [
      ...Array.from({ length: steps }, (_, step) => ({
        firstTokenDelayMs: modelLatencyMs,
        toolCalls: [{ name: 'bash', input: { command: `echo step-${step} >> steps.txt` } }],
      })),
      { firstTokenDelayMs: modelLatencyMs, text: 'done' },
    ]);
    const agent = agentSnapshot({ model: { id: model }, tools: [{ type: 'agent_toolset_20260401' }] });
    created.push(await new WorkflowSession(platform, agent, fastSettings(platform.prefix)).start());
  }
  const cpuBefore = readCpu(sources);
  const started = performance.now();
  await Promise.all(created.map((session) => session.message('run the steps')));
  const deadline = Date.now() + 900_000;
  for (;;) {
    const { rows } = await platform.pool.query<{ n: string }>(
      `select count(*) as n from session_events where type = 'session.status_idle' and session_id = any($1)`,
      [created.map((session) => session.sessionId)],
    );
    if (Number(rows[0]!.n) >= count) break;
    if (Date.now() > deadline) throw new Error(`${count} sessions: turns did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSpent(cpuBefore, readCpu(sources));
  const loadAverage = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const stepSamples: number[] = [];
  const historyEvents: number[] = [];
  const workflowTasks: number[] = [];
  let completed = 0;
  let errors = 0;
  for (const session of created) {
    const events = await session.events();
    const idle = events.find((event) => event.type === 'session.status_idle');
    if (turnEnds(events) === 1 && idle?.type === 'session.status_idle' && idle.stop_reason.type === 'end_turn') {
      completed++;
    }
    errors += events.filter((event) => event.type === 'session.error').length;
    stepSamples.push(...stepLatencies(events));
    const counts = await historyCounts(session);
    historyEvents.push(counts.events);
    workflowTasks.push(counts.workflowTasks);
  }
  await Promise.all(created.map((session) => session.terminate().catch(() => undefined)));
  return {
    sessions: count,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    completed,
    errors,
    step: stats(stepSamples),
    historyEventsPerTurn: stats(historyEvents),
    workflowTasksPerTurn: stats(workflowTasks),
    cpuSeconds,
    cpuPercentOfACore: Object.fromEntries(
      Object.entries(cpuSeconds).map(([name, seconds]) => [name, Math.round((seconds / wallSeconds) * 1000) / 10]),
    ),
    loadAverage,
  };
}

it('runs N sessions of 10 steps at once', async () => {
  const results: Level[] = [];
  for (const count of levels) {
    const level = await runLevel(count);
    results.push(level);
    console.log(JSON.stringify(level));
    write(results);
    if (level.completed < count || level.errors > 0) break;
  }
});

function write(results: Level[]) {
  const base = results[0]!.step.p95;
  const knee = results.find((level) => level.step.p95 >= 2 * base);
  const names = Object.keys(results[0]!.cpuSeconds);
  writeResult(
    'p7-concurrency',
    { levels: results, steps, modelLatencyMs, knee: knee?.sessions ?? null },
    [
      '## P7: concurrency',
      '',
      `N sessions at once, each one turn of ${steps} steps (fake model ${modelLatencyMs} ms before its answer, then a ` +
        'bash call in the session’s own sandbox container) and a final answer; levels one after another on fresh ' +
        'sessions (so each level includes its containers’ cold start). Session worker in its own process; model and ' +
        'sandbox workers, fake model and driver in the benchmark process; sessions driven through the Temporal ' +
        'client (no API in the path). Step = the time between successive journal marks (status_running, each ' +
        'tool_result, the final idle; workflow clock).',
      '',
      '| sessions | completed | session.error | wall | step p50 | **step p95** | step max | history events / turn | workflow tasks / turn | load average |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...results.map(
        (level) =>
          `| ${level.sessions} | ${level.completed} | ${level.errors} | ${level.wallSeconds} s | ${level.step.p50} ms | ` +
          `${level.step.p95} ms | ${level.step.max} ms | ${level.historyEventsPerTurn.p50} | ` +
          `${level.workflowTasksPerTurn.p50} | ${level.loadAverage} |`,
      ),
      '',
      'CPU by process during each level (% of one core, over the level’s wall time):',
      '',
      `| process | ${results.map((level) => `${level.sessions} sessions`).join(' | ')} |`,
      `| --- | ${results.map(() => '---').join(' | ')} |`,
      ...names.map(
        (name) => `| ${name} | ${results.map((level) => `${level.cpuPercentOfACore[name]}%`).join(' | ')} |`,
      ),
      '',
      knee
        ? `Knee: step p95 doubled (≥ ${2 * base} ms) at **${knee.sessions} sessions**.`
        : `Knee: step p95 did not double up to ${results.at(-1)!.sessions} sessions (levels run: ` +
          `${results.map((level) => level.sessions).join(', ')}).`,
    ],
    `BENCH_P7_LEVELS=${results.map((level) => level.sessions).join(',')} npm run bench -- p7`,
  );
}
