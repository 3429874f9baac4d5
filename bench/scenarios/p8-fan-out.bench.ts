// P8: fan-out. 1,000 SSE clients (10 on each of 100 live sessions) on one API process of its own (api/main.ts), the
// clients in another process (bench/support/fanout-clients.ts); the workers and the fake model stay in this one. Each
// phase runs `rounds` turns on every session; delivery = client arrival − the event's processed_at. The second phase
// adds one slow client that connects to a busy stream (with token deltas) and never reads.
import { execFileSync, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, inject, it } from 'vitest';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';
import { startTestPlatform, type TestPlatform } from '../../test/support/platform.ts';
import { cpuSeconds, rssMb } from '../support/process-usage.ts';
import { statsHeader, statsRow, writeResult, type Stats } from '../support/results.ts';

const sessions = Number(process.env.BENCH_P8_SESSIONS ?? '100');
const clientsPerSession = Number(process.env.BENCH_P8_CLIENTS_PER_SESSION ?? '10');
const rounds = Number(process.env.BENCH_P8_ROUNDS ?? '2');
const roundSeconds = Number(process.env.BENCH_P8_ROUND_SECONDS ?? '20');
const answer = 'fan-out '.repeat(512); // 4 KB, streamed in 32-byte deltas (the slow client asks for them)

let platform: TestPlatform;
let api: ManagedProcess;
let baseURL: string;
let apiKey: string;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'bench-p8', workers: ['session', 'model', 'backend'] });
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}`;
  api = startProcess('api', process.execPath, ['--import', 'tsx', join(projectRoot, 'api/main.ts')], {
    logFile: join(tmpdir(), `agents-bench-p8-api-${process.pid}.log`),
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      AGENTS_TASK_QUEUE_PREFIX: platform.prefix,
      AGENTS_SANDBOX_IMAGE: inject('sandboxImage'),
      API_PORT: String(port),
      AGENTS_CODEC_PORT: '0',
      LOG_LEVEL: 'warn',
      // 1,000 stream opens and 100 running sessions from one tenant: the default quotas (200/s, 100) are not the subject.
      AGENTS_TENANT_REQUESTS_PER_SECOND: '0',
      AGENTS_TENANT_MAX_RUNNING_SESSIONS: '0',
    },
  });
  await waitUntil('API', async () => (await fetch(`${baseURL}/health`).catch(() => undefined))?.ok === true, {
    process: api,
    timeoutMs: 60_000,
  });
  apiKey = (await createTenantWithKey(platform.pool, 'tenant bench-p8')).apiKey;
});
afterAll(async () => {
  await api?.stop();
  await platform?.stop();
});

/** 5xx answers retried (as a client would), counted: on an overloaded machine a workflow task can time out. */
let retried5xx = 0;
const post = async (path: string, body: unknown): Promise<{ id: string }> => {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${baseURL}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status === 200) return (await response.json()) as { id: string };
    const text = await response.text();
    if (response.status < 500 || attempt === 5) throw new Error(`${path}: ${response.status} ${text}`);
    retried5xx++;
    await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
  }
};

/** The clients' process: one JSON line per command. */
function startClients(ids: string[]) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(projectRoot, 'bench/support/fanout-clients.ts'),
      baseURL,
      apiKey,
      String(clientsPerSession),
      ids.join(','),
    ],
    { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
  return {
    pid: child.pid!,
    nextLine,
    async send(word: string) {
      child.stdin.write(`${word}\n`);
      return word === 'report' ? nextLine() : undefined;
    },
    async stop() {
      child.stdin.write('exit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** A client that sends its request and never reads a byte of the answer. */
function openSlowClient(sessionId: string): Promise<{ socket: Socket; localPort: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseURL);
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `GET /v1/sessions/${sessionId}/events/stream?event_deltas[]=agent.message HTTP/1.1\r\n` +
          `host: ${url.host}\r\nx-api-key: ${apiKey}\r\naccept: text/event-stream\r\n\r\n`,
      );
      socket.pause();
      resolve({ socket, localPort: socket.localPort! });
    });
    socket.once('error', reject);
  });
}

/** The API side's unsent bytes on the slow client's connection (ss Send-Q), and the client side's unread bytes. */
function slowQueues(apiPort: number, clientPort: number) {
  const row = (filter: string) =>
    execFileSync('ss', ['-tnH', 'state', 'established', filter], { encoding: 'utf8' }).trim().split(/\s+/);
  const apiSide = row(`( sport = :${apiPort} and dport = :${clientPort} )`);
  const clientSide = row(`( sport = :${clientPort} and dport = :${apiPort} )`);
  return { apiSendQ: Number(apiSide[1] ?? NaN), clientRecvQ: Number(clientSide[0] ?? NaN) };
}

async function idleCount(ids: string[]): Promise<number> {
  const { rows } = await platform.pool.query<{ n: string }>(
    `select count(*) as n from session_events where type = 'session.status_idle' and session_id = any($1)`,
    [ids],
  );
  return Number(rows[0]!.n);
}

/** `rounds` turns on every session (messages paced over `roundSeconds` per round), until every one is idle again. */
async function runTurns(ids: string[], label: string) {
  const apiPid = api.child.pid!;
  const cpuBefore = cpuSeconds(apiPid);
  const started = performance.now();
  let peakRss = rssMb(apiPid);
  for (let round = 0; round < rounds; round++) {
    const before = await idleCount(ids);
    for (const [index, id] of ids.entries()) {
      await post(`/v1/sessions/${id}/events`, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: `${label} ${round} ${index}` }] }],
      });
      await new Promise((resolve) => setTimeout(resolve, (roundSeconds * 1000) / ids.length));
    }
    const deadline = Date.now() + 300_000;
    while ((await idleCount(ids)) < before + ids.length) {
      if (Date.now() > deadline) throw new Error(`${label}: turns did not finish`);
      peakRss = Math.max(peakRss, rssMb(apiPid));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last frames reach the clients
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds: Math.round(seconds * 10) / 10,
    apiCpuPercent: Math.round(((cpuSeconds(apiPid) - cpuBefore) / seconds) * 1000) / 10,
    apiPeakRssMb: peakRss,
  };
}

interface ClientReport {
  frames: number;
  failures: number;
  delivery: Stats;
  spread: Stats;
}

it('fans events out to 1,000 SSE clients', async () => {
  const model = `${platform.prefix}-p8`;
  const turnsNeeded = sessions * rounds * 2 + sessions;
  platform.fakeModel.setScript(
    model,
    Array.from({ length: turnsNeeded }, () => ({ text: answer, chunkSize: 32 })),
  );
  const agent = await post('/v1/agents', { name: 'p8 agent', model, tools: [] });
  const environment = await post('/v1/environments', { name: `p8-${platform.prefix}` });
  const ids: string[] = [];
  for (let index = 0; index < sessions; index++) {
    ids.push((await post('/v1/sessions', { agent: agent.id, environment_id: environment.id })).id);
  }
  const apiPid = api.child.pid!;
  const rssIdle = rssMb(apiPid);
  const clients = startClients(ids);
  const opened = (await clients.nextLine()) as { opened: number; failures: number };
  if (opened.failures > 0) throw new Error(`${opened.failures} streams failed to open`);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const rssWithClients = rssMb(apiPid);

  await clients.send('reset');
  const withoutSlow = await runTurns(ids, 'fast');
  const fastReport = (await clients.send('report')) as unknown as ClientReport;

  const slow = await openSlowClient(ids[0]!);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await clients.send('reset');
  const withSlow = await runTurns(ids, 'slow');
  const slowReport = (await clients.send('report')) as unknown as ClientReport;
  const queues = slowQueues(Number(new URL(baseURL).port), slow.localPort);
  slow.socket.destroy();
  await clients.stop();
  const load = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' ');

  writeResult(
    'p8-fan-out',
    {
      sessions,
      clientsPerSession,
      rounds,
      roundSeconds,
      retried5xx,
      clientsOpened: opened.opened,
      loadAverage: load,
      api: { rssIdleMb: rssIdle, rssWithClientsMb: rssWithClients },
      withoutSlowClient: { ...withoutSlow, ...fastReport },
      withSlowClient: { ...withSlow, ...slowReport, slowClientQueues: queues },
    },
    [
      '## P8: fan-out to 1,000 SSE clients',
      '',
      `${opened.opened} SSE clients (${clientsPerSession} on each of ${sessions} sessions, \`/events/stream\` without ` +
        'deltas) in a process of their own, on one API process of its own (`api/main.ts`); workers and the fake model ' +
        `in the benchmark process. Each phase runs ${rounds} turns on every session (a 4 KB answer; messages paced ` +
        `over ${roundSeconds} s per round). Delivery = arrival at a client (wall clock) − the event’s \`processed_at\` (the ` +
        'workflow’s clock when it journaled the event: it includes the journal activity, the NOTIFY, the API’s ' +
        're-read and the write); spread = arrival − the first arrival of the same event at any client of its session ' +
        '(the fan-out alone). In the second phase one more client streams session 1 with token deltas and never reads.',
      '',
      '| phase | frames | delivery p50 | **delivery p95** | delivery max | spread p95 | API CPU | API peak RSS | wall |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...(
        [
          ['without the slow client', withoutSlow, fastReport],
          ['with one slow client', withSlow, slowReport],
        ] as const
      ).map(
        ([name, run, report]) =>
          `| ${name} | ${report.frames} | ${report.delivery.p50} ms | ${report.delivery.p95} ms | ` +
          `${report.delivery.max} ms | ${report.spread.p95} ms | ${run.apiCpuPercent}% of a core | ` +
          `${run.apiPeakRssMb} MB | ${run.seconds} s |`,
      ),
      '',
      ...statsHeader,
      statsRow('delivery, without the slow client', fastReport.delivery),
      statsRow('delivery, with the slow client', slowReport.delivery),
      statsRow('spread, without', fastReport.spread),
      statsRow('spread, with', slowReport.spread),
      '',
      `API RSS: ${rssIdle} MB with ${sessions} sessions and no stream, ${rssWithClients} MB with the ` +
        `${opened.opened} streams open. At the end the slow client's connection held ${queues.clientRecvQ} unread ` +
        `bytes on its side and ${queues.apiSendQ} unsent on the API's (ss). Stream failures: ` +
        `${fastReport.failures + slowReport.failures}; message POSTs retried after a 5xx: ${retried5xx}. Load average at the end: ${load} (2 cores shared with other ` +
        'engineers’ builds and tests, so absolute figures are noisy).',
    ],
    'npm run bench -- p8',
  );
});
