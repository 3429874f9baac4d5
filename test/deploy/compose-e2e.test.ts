// The production compose file run end to end with images built here, without a registry
// (scripts/setup/compose-images.sh): `docker compose up` of docker-compose.yml under a project name of its own, the
// Temporal cluster (frontend, matching, worker, two history services on PostgreSQL) answering, then one session through
// the official Anthropic SDK against the compose API — a message, a bash tool call in a sandbox container on this
// host's Docker engine, the answer, idle — and `docker compose down -v`. The only addition to the production file is the
// fake model as a service (test/deploy/compose.fake-model.yml). Images are cached by content hash, so a warm run
// rebuilds nothing. On demand (`npm run test:compose`, AGENTS_TEST_COMPOSE=1), like the cluster profile: on a fresh
// machine its first run builds the compose plugin and the Temporal server from the Go module proxy (~20-30 min), which
// would more than double CI's time; `npm test` reports it skipped.
import Anthropic from '@anthropic-ai/sdk';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerClient, removeContainersLabelled } from '../../scripts/services/docker.ts';
import { freePort, waitUntil } from '../../scripts/services/process.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';

const run = promisify(execFile);
const project = `agents-compose-${randomBytes(3).toString('hex')}`;
const runLabel = 'io.temporal-agents.compose-e2e';
const agentDir = mkdtempSync(join(tmpdir(), 'agents-compose-agent-'));
let env: NodeJS.ProcessEnv = {};
let composeBin: string[] = [];
let ports = { api: 0, temporal: 0 };
let started = false;
const enabled = process.env.AGENTS_TEST_COMPOSE === '1';

/** KEY=value lines of a file written by a setup script. */
function readEnvFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

async function compose(...args: string[]): Promise<string> {
  const files = ['-f', 'docker-compose.yml', '-f', 'test/deploy/compose.fake-model.yml'];
  const { stdout } = await run(composeBin[0]!, [...composeBin.slice(1), '-p', project, ...files, ...args], {
    cwd: projectRoot,
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Compose projects of this test left by a run that was killed (older than an hour; a live run takes minutes). */
async function removeStaleProjects(): Promise<void> {
  const containers = await dockerClient().listContainers({
    all: true,
    filters: { label: ['com.docker.compose.project'] },
  });
  const stale = new Set(
    containers
      .filter((info) => info.Created * 1000 < Date.now() - 3_600_000)
      .map((info) => info.Labels['com.docker.compose.project'] ?? '')
      .filter((name) => name.startsWith('agents-compose-')),
  );
  for (const name of stale) {
    await run(composeBin[0]!, [...composeBin.slice(1), '-p', name, 'down', '-v', '-t', '1']).catch(() => undefined);
    await removeContainersLabelled({ [runLabel]: name }).catch(() => 0);
  }
}

beforeAll(async () => {
  if (!enabled) return;
  // Builds what is missing (minutes on a fresh machine), else only checks the hashes.
  execFileSync('bash', ['scripts/setup/compose-images.sh'], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  const images = readEnvFile(join(projectRoot, '.tools', 'compose-env'));
  composeBin = images.COMPOSE_BIN!.split(' ');
  await removeStaleProjects();
  ports = { api: await freePort(), temporal: await freePort() };
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...images,
    POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
    AGENTS_PAYLOAD_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    AGENTS_VAULT_KEY: randomBytes(32).toString('base64'),
    AGENTS_API_PUBLISH: `127.0.0.1:${ports.api}`,
    TEMPORAL_PUBLISH: `127.0.0.1:${ports.temporal}`,
    AGENTS_FAKE_MODEL_URL: 'http://fake-model:8090',
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    SANDBOX_HOST_ID: project,
    AGENTS_SANDBOX_WARM_POOL_MIN: '0',
    AGENTS_SANDBOX_AGENT_DIR: agentDir,
    AGENTS_SANDBOX_EXTRA_LABELS: `${runLabel}=${project}`,
  };
}, 1_800_000);

afterAll(async () => {
  if (!enabled) return;
  if (started) {
    if (process.env.AGENTS_COMPOSE_KEEP_LOGS) {
      console.log(await compose('logs', '--no-color', '--tail', '80').catch(String));
    }
    await compose('down', '-v', '--remove-orphans', '-t', '10').catch((error: unknown) => console.error(error));
  }
  await removeContainersLabelled({ [runLabel]: project }).catch(() => 0);
  rmSync(agentDir, { recursive: true, force: true });
}, 180_000);

describe.skipIf(!enabled)('docker-compose.yml with locally built images', () => {
  it('comes up and runs a session end to end', { timeout: 600_000 }, async () => {
    started = true;
    await compose('up', '-d', '--quiet-pull');
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    await waitUntil('the compose API', async () => (await fetch(`${apiUrl}/health`)).ok, {
      timeoutMs: 300_000,
      intervalMs: 1_000,
    });
    const states = await compose('ps', '--all', '--format', '{{.Service}} {{.State}} {{.ExitCode}}');
    for (const service of [
      'temporal',
      'temporal-history-1',
      'temporal-history-2',
      'temporal-matching',
      'temporal-worker',
    ]) {
      expect(states, `${service} runs`).toMatch(new RegExp(`^${service} running`, 'm'));
    }
    for (const job of ['temporal-schema', 'temporal-setup', 'migrate']) {
      expect(states, `${job} completed`).toMatch(new RegExp(`^${job} exited 0$`, 'm'));
    }

    // An API key from the operator command in the platform image.
    const tenant = JSON.parse(
      await compose('exec', '-T', 'api', 'node', '--import', 'tsx', 'scripts/create-tenant.ts', 'compose e2e'),
    ) as { api_key: string };
    const client = new Anthropic({ apiKey: tenant.api_key, baseURL: apiUrl, maxRetries: 4 });
    const environment = await client.beta.environments.create({
      name: `compose-${project}`,
      config: { type: 'cloud', networking: { type: 'limited' } },
    });
    const agent = await client.beta.agents.create({
      name: 'compose agent',
      model: 'claude-sonnet-5-5',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

    const stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [
        { type: 'user.message', content: [{ type: 'text', text: 'run: echo "compose $(whoami)" | tee out.txt' }] },
      ],
    });
    const seen: string[] = [];
    let toolOutput = '';
    let answer = '';
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === 'agent.tool_result') toolOutput = JSON.stringify(event.content ?? []);
      if (event.type === 'agent.message') answer = event.content.map((b) => ('text' in b ? b.text : '')).join('');
      if (event.type === 'session.status_idle' && event.stop_reason.type !== 'requires_action') break;
    }
    stream.controller.abort();
    expect(seen).toEqual(
      expect.arrayContaining(['user.message', 'agent.tool_use', 'agent.tool_result', 'agent.message']),
    );
    expect(seen.at(-1)).toBe('session.status_idle');
    expect(toolOutput).toContain('compose agent');
    expect(answer).toContain('compose agent');

    // The session is a workflow on the compose stack's Temporal cluster, and its sandbox a container of this run.
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const described = await connection.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: `session-${session.id}` },
      });
      expect(described.workflowExecutionInfo?.type?.name).toBe('sessionWorkflow');
    } finally {
      await connection.close();
    }
    const sandboxes = await dockerClient().listContainers({
      all: true,
      filters: { label: [`${runLabel}=${project}`] },
    });
    expect(sandboxes.map((info) => info.Labels['io.temporal-agents.session'])).toContain(session.id);
  });
});
