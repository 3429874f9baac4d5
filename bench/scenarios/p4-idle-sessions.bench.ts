// P4′: idle sessions at scale. BENCH_P4_SESSIONS sessions (default 10,000; the long run is
// `npm run bench -- p4 --sessions 100000`) are created as users create them — `client.beta.sessions.create` through
// the official SDK against the API, BENCH_P4_IN_FLIGHT requests at a time — and left idle. The session worker runs as
// its own process, started the way the platform starts it (workers/process-launch.ts) with a bounded workflow cache;
// its resident memory is read from /proc at checkpoints. Temporal runs as a dev server of this scenario's own with its
// SQLite database in a file, so what the sessions cost Temporal is bytes on disk; PostgreSQL's cost is the growth of
// pg_total_relation_size of the tables the sessions touched. The same run is repeated, smaller, on a worker started
// without the launch settings. Then a few sessions use a sandbox and go idle past short pause/snapshot timeouts: no
// container may still run. The result file is rewritten at each checkpoint (marked partial) so a long run that is
// stopped leaves its figures so far.
import Docker from 'dockerode';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, inject, it } from 'vitest';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { taskQueues, withPrefix } from '../../domain/task-queues.ts';
import { freePort, type ManagedProcess } from '../../scripts/services/process.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/services/temporal.ts';
import { readToolsEnv } from '../../scripts/services/tools-env.ts';
import { startApiOn, type ApiHarness } from '../../test/support/api-harness.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { startWorkerProcess } from '../../test/support/worker-processes.ts';
import { sessionStateQuery } from '../../workflows/messages.ts';
import {
  createSessions,
  deleteSessions,
  runTurn,
  sessionTemplate,
  type SessionTemplate,
} from '../support/api-session-load.ts';
import { writeP4Result, type MemoryRun, type P4Run, type Sample } from '../support/p4-report.ts';
import { cpuSeconds, memoryBreakdown, rssMb, type MemoryClass } from '../support/process-usage.ts';
import { sqliteFileSizes, tableGrowth, tableUsage, totalBytes } from '../support/storage-usage.ts';
import { idleCost, workflowCacheMetrics } from '../support/temporal-idle-cost.ts';

const total = Number(process.env.BENCH_P4_SESSIONS ?? '10000');
/** The session worker's workflow cache (AGENTS_SESSION_CACHE_SIZE); idle sessions beyond it are evicted. */
const cacheSize = Number(process.env.BENCH_P4_CACHE ?? '100');
const inFlight = Number(process.env.BENCH_P4_IN_FLIGHT ?? '20');
/** The comparison without launch settings stops here: enough to show the difference. */
const untunedTotal = Math.min(total, Number(process.env.BENCH_P4_UNTUNED_SESSIONS ?? '2000'));
const warmUpSessions = cacheSize * 3;
const sandboxSessions = 10;
const sampledSessions = 20;
const target = { growthMb: 50, sessions: 100_000 };

let runDir: string;
let temporal: TemporalDevServer;
let platform: TestPlatform;
let api: ApiHarness;
let template: SessionTemplate;
const dbFile = () => join(runDir, 'temporal.db');

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), 'bench-p4-'));
  temporal = await startTemporalDevServer({
    bin: readToolsEnv().temporalBin,
    port: await freePort(),
    dbFile: dbFile(),
    logFile: join(runDir, 'temporal.log'),
  });
  platform = await startTestPlatform({
    label: 'bench-p4',
    workers: ['model', 'sandbox'],
    temporalAddress: temporal.address,
  });
  api = await startApiOn(platform, 'bench-p4', { config: apiConfig() });
  template = await sessionTemplate(api, `${platform.prefix}-p4`);
});
afterAll(async () => {
  await api?.stop();
  await platform?.stop();
  await temporal?.process.stop();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

/** The API on this scenario's Temporal; no request-rate quota (a tenant creating 100,000 sessions has it raised). */
const apiConfig = () => ({
  TEMPORAL_ADDRESS: temporal.address,
  AGENTS_SANDBOX_IMAGE: inject('sandboxImage'),
  AGENTS_TENANT_REQUESTS_PER_SECOND: '0',
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number) => Math.round(value * 10) / 10;
const checkpointsUpTo = (count: number) =>
  [250, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 50_000, 75_000, 100_000, 150_000]
    .filter((n) => n < count)
    .concat(count);
const sessionQueue = () => withPrefix(platform.prefix, taskQueues.session);

/**
 * Resolves once the session worker has run this session's first workflow task (a query needs the workflow loaded).
 * A worker still working through a backlog of first tasks lets the query time out; it is asked again.
 */
async function loaded(sessionId: string): Promise<void> {
  const handle = platform.client.workflow.getHandle(sessionWorkflowId(sessionId));
  for (let attempt = 1; ; attempt++) {
    try {
      await handle.query(sessionStateQuery);
      return;
    } catch (error) {
      if (attempt >= 30) throw error;
    }
  }
}

/** Storage now: PostgreSQL tables and the Temporal dev server's SQLite files. */
const storage = async () => ({ tables: await tableUsage(platform.pool), temporal: sqliteFileSizes(dbFile()) });

async function startSessionWorker(launchSettings: boolean, metricsPort?: number): Promise<ManagedProcess> {
  return startWorkerProcess('session', {
    prefix: platform.prefix,
    fakeModelUrl: platform.fakeModel.url,
    extraEnv: {
      TEMPORAL_ADDRESS: temporal.address,
      AGENTS_SESSION_CACHE_SIZE: String(cacheSize),
      ...(metricsPort ? { AGENTS_METRICS_PORT: String(metricsPort) } : {}),
    },
    withoutLaunchSettings: !launchSettings,
  });
}

/** What any busy worker has been through before it holds idle sessions: turns, then a burst of sessions that end. */
async function warmUp(pid: number) {
  for (let index = 0; index < 5; index++) {
    const [sessionId] = (await createSessions(template, 1, 1)).created;
    await runTurn(template, sessionId!, 'hello');
    await deleteSessions(template, [sessionId!], 1);
  }
  await pause(3_000);
  const fresh = memoryBreakdown(pid);
  const burst = await createSessions(template, warmUpSessions, inFlight);
  await loaded(burst.created.at(-1)!);
  await deleteSessions(template, burst.created, inFlight);
  await pause(5_000);
  return fresh;
}

async function measureIdleSessions(
  count: number,
  launchSettings: boolean,
  onCheckpoint: (run: MemoryRun) => void,
): Promise<MemoryRun> {
  const metricsPort = launchSettings ? await freePort() : undefined;
  const worker = await startSessionWorker(launchSettings, metricsPort);
  try {
    const pid = worker.child.pid!;
    const fresh = await warmUp(pid);
    const baseline = memoryBreakdown(pid);
    const storageBefore = await storage();
    const cpuAtBaseline = cpuSeconds(pid);
    const started = performance.now();
    const samples: Sample[] = [
      { sessions: 0, rssMb: baseline.rssMb, seconds: 0, perSecond: 0, temporalBytes: 0, postgresBytes: 0 },
    ];
    const sampleIds: string[] = [];
    const every = Math.max(1, Math.floor(count / sampledSessions));
    let created = 0;
    let seen = 0;
    let errors = 0;
    let creatingSeconds = 0;
    const run = (): MemoryRun => ({
      launchSettings,
      fresh,
      baseline,
      samples,
      sessions: created,
      errors,
      creatingSeconds: round(creatingSeconds),
      inFlight,
    });
    for (const checkpoint of checkpointsUpTo(count)) {
      const step = await createSessions(template, checkpoint - created, inFlight, (id) => {
        if (seen++ % every === 0) sampleIds.push(id);
      });
      await loaded(step.created.at(-1)!);
      created = checkpoint;
      errors += step.errors;
      creatingSeconds += step.seconds;
      await pause(3_000);
      const now = await storage();
      samples.push({
        sessions: checkpoint,
        rssMb: rssMb(pid),
        seconds: Math.round((performance.now() - started) / 1000),
        perSecond: round(step.created.length / step.seconds),
        temporalBytes: now.temporal.total - storageBefore.temporal.total,
        postgresBytes: totalBytes(now.tables) - totalBytes(storageBefore.tables),
        loadAverage: loadavg().map(round),
      });
      console.log(
        `${launchSettings ? 'tuned' : 'untuned'}: ${checkpoint} idle sessions, worker RSS ${samples.at(-1)?.rssMb} MB, ` +
          `${samples.at(-1)?.perSecond}/s, load ${loadavg().map(round).join(' ')}`,
      );
      if (checkpoint < count) onCheckpoint(run());
    }
    const cpuSecondsPerThousand = round(((cpuSeconds(pid) - cpuAtBaseline) / created) * 1000);
    await pause(30_000);
    const settled = memoryBreakdown(pid);
    const storageAfter = await storage();
    const growthByClassMb = Object.fromEntries(
      Object.keys(settled.classes).map((name) => [
        name,
        round(settled.classes[name as MemoryClass] - baseline.classes[name as MemoryClass]),
      ]),
    ) as Record<MemoryClass, number>;
    return {
      ...run(),
      settled,
      growthMb: round(settled.rssMb - baseline.rssMb),
      growthFromFreshMb: round(settled.rssMb - fresh.rssMb),
      growthByClassMb,
      cpuSecondsPerThousand,
      postgres: tableGrowth(storageBefore.tables, storageAfter.tables, created),
      temporalFiles: { before: storageBefore.temporal, after: storageAfter.temporal },
      idleCost: launchSettings ? await idleCost(platform.client, sampleIds, sessionQueue()) : undefined,
      workflowCache: metricsPort ? await workflowCacheMetrics(`http://127.0.0.1:${metricsPort}/metrics`) : undefined,
    };
  } finally {
    await worker.stop('SIGKILL');
  }
}

/** Sessions that ran a bash turn, idle past short pause/snapshot timeouts: how many containers still run. */
async function containersAfterIdleTimeout() {
  const sessionWorker = await startSessionWorker(true);
  const shortApi = await startApiOn(platform, 'bench-p4-short', {
    config: apiConfig(),
    sessionSettings: { idlePauseMs: 1_000, idleSnapshotMs: 3_000 },
  });
  try {
    const short = await sessionTemplate(shortApi, `${platform.prefix}-p4`);
    const { created } = await createSessions(short, sandboxSessions, sandboxSessions);
    for (const sessionId of created) await runTurn(short, sessionId, 'run: echo hi > hi.txt');
    await pause(15_000);
    const containers = await new Docker().listContainers({
      all: true,
      filters: { label: ['io.temporal-agents.managed=true'] },
    });
    const ours = containers.filter((info) => created.includes(info.Labels['io.temporal-agents.session'] ?? ''));
    return { running: ours.filter((info) => info.State === 'running').length, left: ours.length };
  } finally {
    await shortApi.stop();
    await sessionWorker.stop('SIGKILL');
  }
}

it(
  'measures worker memory and storage for idle sessions, and containers after the idle timeout',
  async () => {
    const base: Omit<P4Run, 'tuned'> = { total, cacheSize, warmUpSessions, inFlight, target, sandboxSessions };
    const tuned = await measureIdleSessions(total, true, (partial) => writeP4Result({ ...base, tuned: partial }));
    writeP4Result({ ...base, tuned });
    const untuned = untunedTotal > 0 ? await measureIdleSessions(untunedTotal, false, () => undefined) : undefined;
    const containers = await containersAfterIdleTimeout();
    writeP4Result({ ...base, tuned, untuned, containers });
  },
  12 * 3600_000,
);
