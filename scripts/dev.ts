// The dev stack: every real component of the platform as child processes of this one, with logs under
// .data/logs. Prints where each is, runs a demo session, stops everything on Ctrl-C (SIGINT/SIGTERM). A process that
// exits on its own (a crash, or PostgreSQL/Temporal stopped by hand) is started again with a visible line.
// Flags: --no-demo, --exit-after-demo. Ports and folders: see README "Configuration".
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateDatabase } from '../db/migrate.ts';
import { createHash } from 'node:crypto';
import { hostLabel } from '../domain/sandbox.ts';
import { dockerAnswers, removeContainersLabelled } from './services/docker.ts';
import { portIsFree, startProcess, waitUntil, type ManagedProcess } from './services/process.ts';
import { supervise, type Supervised } from './services/supervisor.ts';
import { queryAnswers, startLocalPostgres } from './services/postgres.ts';
import { startTemporalDevServer, type TemporalDevServer } from './services/temporal.ts';
import { projectRoot, readToolsEnv } from './services/tools-env.ts';
import { runDemo } from './demo.ts';
import { workerLaunch } from '../workers/process-launch.ts';

const env = process.env;
const { values: flags } = parseArgs({
  options: { 'no-demo': { type: 'boolean' }, 'exit-after-demo': { type: 'boolean' } },
});
const dataDir = env.AGENTS_DATA_DIR ?? join(projectRoot, '.data');
const ports = {
  temporal: Number(env.AGENTS_DEV_TEMPORAL_PORT ?? 7233),
  ui: Number(env.AGENTS_DEV_UI_PORT ?? 8233),
  postgres: Number(env.AGENTS_DEV_PG_PORT ?? 55432),
  api: Number(env.API_PORT ?? 8080),
  codec: Number(env.AGENTS_CODEC_PORT ?? 8081),
  fakeModel: Number(env.AGENTS_DEV_FAKE_MODEL_PORT ?? 8090),
};
const useFakeModel = !env.ANTHROPIC_API_KEY && !env.OPENAI_API_KEY;

const logsDir = join(dataDir, 'logs');
// The dev stack's sandbox worker is one Docker host; its containers carry this id and are removed when the stack stops
// (sessions recreate them from their last snapshot on the next start).
const sandboxHostId = `dev-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
const children: Supervised[] = [];
const say = (message: string) => process.stdout.write(`\x1b[1;32m[dev]\x1b[0m ${message}\n`);

let stopping = false;
const sayUnlessStopping = (message: string) => {
  if (!stopping) say(message);
};
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping…');
    // Reverse order: API and workers first, then the servers they use.
    for (const child of [...children].reverse()) await child.stop('SIGTERM', 15_000);
    const removed = await removeContainersLabelled({ [hostLabel]: sandboxHostId }).catch(() => 0);
    say(`stopped${removed ? ` (removed ${removed} sandbox container${removed > 1 ? 's' : ''})` : ''}`);
  }
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

async function main(): Promise<void> {
  const tools = readToolsEnv();
  for (const [name, port] of Object.entries(ports)) {
    if (name === 'postgres' && env.DATABASE_URL) continue;
    if (name === 'fakeModel' && !useFakeModel) continue;
    if (!(await portIsFree(port))) throw new Error(`port ${port} (${name}) is in use: is another stack running?`);
  }

  // PostgreSQL: DATABASE_URL, else the project-local cluster in .data/postgres.
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    if (!tools.pgBinDir) throw new Error('no PostgreSQL binaries; run npm run setup');
    const pgOptions = {
      binDir: tools.pgBinDir,
      dataDir: join(dataDir, 'postgres'),
      port: ports.postgres,
      logFile: join(logsDir, 'postgres.log'),
    };
    let url = '';
    const startPostgres = async () => {
      const postgres = await startLocalPostgres(pgOptions);
      url = postgres.url;
      return postgres.process;
    };
    children.push(await supervise('postgres', startPostgres, { say: sayUnlessStopping }));
    databaseUrl = url;
  } else if (!(await queryAnswers(databaseUrl))) {
    throw new Error('DATABASE_URL does not answer');
  }
  await migrateDatabase(databaseUrl);
  say(`PostgreSQL       ${databaseUrl}`);

  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const started: { temporal?: TemporalDevServer } = {};
  const startTemporal = async () => {
    started.temporal = await startTemporalDevServer({
      bin: tools.temporalBin,
      port: ports.temporal,
      uiPort: ports.ui,
      dbFile: join(dataDir, 'temporal.db'),
      logFile: join(logsDir, 'temporal.log'),
      codecEndpoint: `http://127.0.0.1:${ports.codec}`,
    });
    return started.temporal.process;
  };
  children.push(await supervise('temporal', startTemporal, { say: sayUnlessStopping }));
  const temporal = started.temporal;
  if (!temporal) throw new Error('Temporal did not start');
  say(`Temporal         ${temporal.address} (namespace default)`);
  say(`Temporal UI      ${temporal.uiUrl}`);

  const docker = await dockerAnswers();
  say(`Docker engine    ${docker.version} (API ${docker.apiVersion}), sandbox image ${tools.sandboxImage}`);

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: databaseUrl,
    AGENTS_SANDBOX_IMAGE: tools.sandboxImage,
    API_PORT: String(ports.api),
    AGENTS_CODEC_PORT: String(ports.codec),
    TEMPORAL_UI_URL: temporal.uiUrl,
    AGENTS_SANDBOX_HOST_ID: sandboxHostId,
  };
  if (useFakeModel) {
    const fake = await startNode(
      'fake-model',
      'test/fake-model/main.ts',
      ['--port', String(ports.fakeModel)],
      childEnv,
    );
    const fakeUrl = `http://127.0.0.1:${ports.fakeModel}`;
    await waitUntil('fake model server', () => httpOk(`${fakeUrl}/_fake/health`), { process: fake.current() });
    childEnv.AGENTS_FAKE_MODEL_URL = fakeUrl;
    say(`Fake model       ${fakeUrl} (no ANTHROPIC_API_KEY / OPENAI_API_KEY set)`);
  }

  const workerPids: string[] = [];
  for (const family of ['session', 'model', 'sandbox', 'automation', 'mcp'] as const) {
    const worker = await startNode(
      `${family}-worker`,
      `workers/${family}-worker.ts`,
      [],
      { ...childEnv, ...workerLaunch[family].env },
      workerLaunch[family].nodeFlags,
    );
    workerPids.push(`${family} (pid ${worker.current().child.pid})`);
  }
  say(`Workers          ${workerPids.join(', ')} (logs in ${logsDir})`);

  const api = await startNode('api', 'api/main.ts', [], childEnv);
  await waitUntil('API', () => httpOk(`${apiUrl}/health`), { process: api.current(), timeoutMs: 60_000 });
  say(`API              ${apiUrl}  (OpenAPI: ${apiUrl}/openapi.json)`);
  say(`Codec server     http://127.0.0.1:${ports.codec} (Temporal UI and CLI read encrypted payloads through it)`);

  if (!flags['no-demo']) {
    try {
      await runDemo({ apiUrl, databaseUrl, uiUrl: temporal.uiUrl ?? '', log: say });
    } catch (error) {
      say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
      if (flags['exit-after-demo']) await stopAll(1);
    }
  }
  if (flags['exit-after-demo']) await stopAll(0);
  say('stack is up; Ctrl-C stops it');
}

async function startNode(
  name: string,
  script: string,
  args: string[],
  childEnv: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): Promise<Supervised> {
  const start = async (): Promise<ManagedProcess> =>
    startProcess(name, process.execPath, [...nodeFlags, '--import', 'tsx', join(projectRoot, script), ...args], {
      logFile: join(logsDir, `${name}.log`),
      env: childEnv,
      cwd: projectRoot,
    });
  const supervised = await supervise(name, start, { say: sayUnlessStopping });
  children.push(supervised);
  return supervised;
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

main().catch(async (error: unknown) => {
  say(`error: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
});
