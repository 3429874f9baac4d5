// P7: concurrency. N sessions active at once (BENCH_P7_LEVELS, default 1,2,5,10,20,50,100,200, one level after the
// other on fresh sessions), each one turn of 10 steps — a model call (the fake model answers after 50 ms) and a bash
// call in the session's sandbox — and a final answer. Every session must end its turn with end_turn and no
// session.error. The session, model and sandbox workers run as their own processes (as deployed:
// workers/process-launch.ts), so CPU is measured per process; the fake model and the driver run in this one. Sessions
// are driven through the Temporal client (as in P4; no API in the path), each with its row written first as the API
// writes it. After each platform level the same work runs in-process at the same concurrency
// (bench/support/p7-in-process.ts). Per level: wall time, step-latency percentiles, workflow tasks and history events
// per turn (by event type), CPU seconds per turn by process, and the workers' task queue latencies.
// BENCH_P7_IN_PROCESS=0 skips the in-process runs (quick A/B runs of the platform).
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, inject, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { defaultSessionSettings } from '../../domain/session.ts';
import { managedLabel, removeContainersLabelled } from '../../scripts/services/docker.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../../test/support/platform.ts';
import { agentSnapshot, fastSettings, turnEnds, WorkflowSession } from '../../test/support/workflow-session.ts';
import { startWorkerProcess, type WorkerFamily } from '../../test/support/worker-processes.ts';
import { cpuSpent, readCpu, type CpuSources } from '../support/cpu-by-process.ts';
import { loadAverage, writeP7Result, type Level, type WorkerLatencies } from '../support/p7-report.ts';
import { runInProcessLevel } from '../support/p7-in-process.ts';
import { stats } from '../support/results.ts';
import { meanMs, metricsSpent, readWorkerMetrics, type MetricsReading } from '../support/worker-metrics.ts';

const levels = (process.env.BENCH_P7_LEVELS ?? '1,2,5,10,20,50,100,200').split(',').map(Number);
const steps = 10;
const modelLatencyMs = 50;
/** BENCH_P7_CPU_PROF=<dir>: the workers run with --cpu-prof, one folder per family (main and workflow threads). */
const cpuProfileDir = process.env.BENCH_P7_CPU_PROF;
/**
 * The limits a deployment sets against its providers' rate limits and its hosts' capacity, lifted (the default,
 * BENCH_P7_CAPPED=1 keeps them): a model worker starts at most 20 calls a second per provider by default
 * (AGENTS_ANTHROPIC_MAX_PER_SECOND), which with a fake model answering in 50 ms binds before anything the platform
 * does — every level from 20 sessions on then ran at ~17.5 model calls/s. The in-process loop has no such limit.
 */
const uncapped = process.env.BENCH_P7_CAPPED !== '1';
const uncappedLimits = {
  AGENTS_ANTHROPIC_MAX_PER_SECOND: '100000',
  AGENTS_ANTHROPIC_MAX_CONCURRENCY: '100000',
  AGENTS_OPENAI_MAX_PER_SECOND: '100000',
  AGENTS_OPENAI_MAX_CONCURRENCY: '100000',
  AGENTS_MODEL_MAX_PER_SECOND: '100000',
  AGENTS_MODEL_MAX_CONCURRENCY: '200',
  AGENTS_SANDBOX_MAX_CONCURRENCY: '200',
};
/** The bench process: the fake model and the driver (and, in the in-process runs, the whole loop). */
const benchProcess = 'fake model + driver (bench process)';

let platform: TestPlatform;
const workers = new Map<WorkerFamily, { process: ManagedProcess; metricsPort: number }>();
let sources: CpuSources;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p7', workers: [] });
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  for (const family of ['session', 'model', 'sandbox'] as const) {
    const metricsPort = await freePort();
    const process = await startWorkerProcess(family, {
      prefix: platform.prefix,
      fakeModelUrl: platform.fakeModel.url,
      extraEnv: {
        AGENTS_METRICS_PORT: String(metricsPort),
        AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
        ...(uncapped ? uncappedLimits : {}),
        ...(cpuProfileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${cpuProfileDir}/${family}` } : {}),
      },
    });
    workers.set(family, { process, metricsPort });
  }
  sources = {
    temporalPort: Number(new URL(`http://${inject('temporalAddress')}`).port),
    postgresPort: Number(new URL(inject('databaseUrl')).port),
    pids: {
      'session worker': workers.get('session')!.process.child.pid!,
      'model worker': workers.get('model')!.process.child.pid!,
      'sandbox worker': workers.get('sandbox')!.process.child.pid!,
      [benchProcess]: process.pid,
    },
  };
});
afterAll(async () => {
  // A profiled worker must exit by itself to write its profile.
  for (const { process } of workers.values()) await process.stop(cpuProfileDir ? 'SIGTERM' : 'SIGKILL');
  await platform?.stop();
});

/**
 * The platform's own heartbeat and host timeouts, not the tests' short ones: with a 5 s heartbeat timeout the SDK sends
 * heartbeats every 4 s, and on this loaded machine a model call slowed past that was retried as a model error.
 */
const deployedTimeouts = {
  modelHeartbeatTimeoutMs: defaultSessionSettings.modelHeartbeatTimeoutMs,
  sandboxHeartbeatTimeoutMs: defaultSessionSettings.sandboxHeartbeatTimeoutMs,
  sandboxHostTimeoutMs: defaultSessionSettings.sandboxHostTimeoutMs,
};

const at = (event: SessionEvent) => Date.parse(event.processed_at ?? '');

/** Step boundaries: the turn's status_running, each tool result, the final idle. */
function stepLatencies(events: SessionEvent[]): number[] {
  const marks = events
    .filter((event) => ['session.status_running', 'agent.tool_result', 'session.status_idle'].includes(event.type))
    .map(at);
  return marks.slice(1).map((mark, index) => mark - marks[index]!);
}

const eventTypeName = (type: number | null | undefined) =>
  (temporal.api.enums.v1.EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');

/** History events of the session's run by type. */
async function historyByType(session: WorkflowSession): Promise<Record<string, number>> {
  const history = await session.handle.fetchHistory();
  const counts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const name = eventTypeName(event.eventType);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const eventMs = (event: temporal.api.history.v1.IHistoryEvent | undefined) =>
  Number(event?.eventTime?.seconds ?? 0) * 1000 + (event?.eventTime?.nanos ?? 0) / 1e6;

/**
 * Each timed-out activity of the session's run, from its history: type, the wait for a worker (scheduled → started),
 * how long after its start the server timed it out, and the timeout — so an error can be told from a slow dispatch.
 */
async function timedOutActivities(session: WorkflowSession): Promise<string[]> {
  const events = (await session.handle.fetchHistory()).events ?? [];
  const byId = new Map(events.map((event) => [Number(event.eventId), event]));
  return events.flatMap((event) => {
    const timedOut = event.activityTaskTimedOutEventAttributes;
    if (!timedOut) return [];
    const scheduled = byId.get(Number(timedOut.scheduledEventId));
    const started = byId.get(Number(timedOut.startedEventId));
    const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name;
    const type = timedOut.failure?.timeoutFailureInfo?.timeoutType;
    return [
      `${name}: started ${Math.round(eventMs(started) - eventMs(scheduled))} ms after scheduled, timed out ` +
        `${Math.round(eventMs(event) - eventMs(started))} ms after started (timeout type ${type}, ` +
        `${timedOut.failure?.message ?? ''})`,
    ];
  });
}

async function readAllMetrics(): Promise<Record<string, MetricsReading>> {
  const entries = await Promise.all(
    [...workers].map(async ([family, { metricsPort }]) => [family, await readWorkerMetrics(metricsPort)] as const),
  );
  return Object.fromEntries(entries);
}

function latencies(before: Record<string, MetricsReading>, after: Record<string, MetricsReading>): WorkerLatencies {
  const spent = (family: string) => metricsSpent(before[family]!, after[family]!);
  const session = spent('session');
  return {
    workflowTaskScheduleToStartMs: meanMs(session, 'temporal_workflow_task_schedule_to_start_latency'),
    workflowTaskExecutionMs: meanMs(session, 'temporal_workflow_task_execution_latency'),
    workflowTaskReplayMs: meanMs(session, 'temporal_workflow_task_replay_latency'),
    stickyCacheMisses: session.temporal_sticky_cache_miss ?? 0,
    modelActivityScheduleToStartMs: meanMs(spent('model'), 'temporal_activity_schedule_to_start_latency'),
    sandboxActivityScheduleToStartMs: meanMs(spent('sandbox'), 'temporal_activity_schedule_to_start_latency'),
  };
}

/** The workers' requests to the Temporal server (heartbeats, completions, …) per turn, by operation. */
function requestsPerTurn(
  before: Record<string, MetricsReading>,
  after: Record<string, MetricsReading>,
  turns: number,
): Record<string, number> {
  const requests: Record<string, number> = {};
  for (const family of Object.keys(after)) {
    for (const [name, n] of Object.entries(metricsSpent(before[family]!, after[family]!))) {
      if (!name.startsWith('temporal_request:')) continue;
      const operation = name.slice('temporal_request:'.length);
      requests[operation] = (requests[operation] ?? 0) + n;
    }
  }
  return Object.fromEntries(
    Object.entries(requests)
      .sort(([, a], [, b]) => b - a)
      .map(([operation, n]) => [operation, Math.round((n / turns) * 10) / 10]),
  );
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
    const session = new WorkflowSession(platform, agent, fastSettings(platform.prefix, deployedTimeouts));
    // With its row, as the API starts one: the payload codec then knows the session's tenant (and its key).
    created.push(await (await session.withRow()).start());
  }
  const [cpuBefore, metricsBefore] = [readCpu(sources), await readAllMetrics()];
  const loadAtStart = loadAverage();
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
  const [cpuSeconds, metricsAfter] = [cpuSpent(cpuBefore, readCpu(sources)), await readAllMetrics()];
  const loadAtEnd = loadAverage();
  const stepSamples: number[] = [];
  const historyTypes: Record<string, number> = {};
  const errorMessages: string[] = [];
  const timeouts: string[] = [];
  let completed = 0;
  for (const session of created) {
    const events = await session.events();
    const idle = events.find((event) => event.type === 'session.status_idle');
    if (turnEnds(events) === 1 && idle?.type === 'session.status_idle' && idle.stop_reason.type === 'end_turn') {
      completed++;
    }
    for (const event of events) if (event.type === 'session.error') errorMessages.push(event.error.message);
    // Every session's, not only those with an error: a model call lost on its way to the worker is retried unannounced.
    timeouts.push(...(await timedOutActivities(session)));
    stepSamples.push(...stepLatencies(events));
    for (const [type, n] of Object.entries(await historyByType(session)))
      historyTypes[type] = (historyTypes[type] ?? 0) + n;
  }
  await Promise.all(created.map((session) => session.terminate().catch(() => undefined)));
  await removeContainersLabelled({ [managedLabel]: 'true', ...testContainerLabels() });

  const inProcessCpuBefore = readCpu(sources);
  // BENCH_P7_IN_PROCESS=0: the platform levels only (quick A/B runs).
  const baseline =
    process.env.BENCH_P7_IN_PROCESS === '0'
      ? { wallSeconds: 0, errors: 0, steps: [] }
      : await runInProcessLevel({
          fakeModel: platform.fakeModel,
          image: inject('sandboxImage'),
          labels: testContainerLabels(),
          prefix: platform.prefix,
          sessions: count,
          steps,
          modelLatencyMs,
        });
  const inProcessCpu = cpuSpent(inProcessCpuBefore, readCpu(sources));
  const perTurn = (cpu: Record<string, number>) =>
    Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, Math.round((seconds / count) * 1000)]));
  const historyEventsPerTurn = Object.values(historyTypes).reduce((sum, n) => sum + n, 0) / count;
  return {
    sessions: count,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    completed,
    errors: errorMessages.length,
    errorMessages: [...new Set(errorMessages)],
    timeouts,
    step: stats(stepSamples),
    historyEventsPerTurn: Math.round(historyEventsPerTurn * 10) / 10,
    workflowTasksPerTurn: Math.round(((historyTypes.WORKFLOW_TASK_COMPLETED ?? 0) / count) * 10) / 10,
    historyByType: Object.fromEntries(
      Object.entries(historyTypes)
        .sort(([, a], [, b]) => b - a)
        .map(([type, n]) => [type, Math.round((n / count) * 10) / 10]),
    ),
    cpuSeconds,
    cpuMsPerTurn: perTurn(cpuSeconds),
    workerLatencies: latencies(metricsBefore, metricsAfter),
    requestsPerTurn: requestsPerTurn(metricsBefore, metricsAfter, count),
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    inProcess: {
      wallSeconds: Math.round(baseline.wallSeconds * 10) / 10,
      errors: baseline.errors,
      step: stats(baseline.steps),
      cpuMsPerTurn: perTurn(inProcessCpu),
      loadAverageEnd: loadAverage(),
    },
  };
}

it('runs N sessions of 10 steps at once', async () => {
  const results: Level[] = [];
  for (const count of levels) {
    const level = await runLevel(count);
    results.push(level);
    console.log(JSON.stringify(level));
    writeP7Result(results, { steps, modelLatencyMs, workerLimits: uncapped ? 'lifted' : 'defaults' });
  }
});
