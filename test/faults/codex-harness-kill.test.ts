// The Codex harness survives its sandbox worker: SIGKILL the worker while Codex's model request is in flight (the
// fake model holds its stream), start it again on the same host queue, and the turn finishes — the retried step
// starts `codex app-server` again and resumes the session's thread (`thread/resume`) from its rollout file in the
// workspace, so the fake model's next request carries the earlier turn.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { listEvents, waitForIdle } from '../fixtures/trace/scenario.ts';
import { eventually, startApiOn, type ApiHarness } from '../support/api-harness.ts';
import { startTestPlatform, testContainerLabels, type TestPlatform } from '../support/platform.ts';
import { startWorkerProcess } from '../support/worker-processes.ts';

let platform: TestPlatform;
let harness: ApiHarness;
let client: Anthropic;
let socketDir: string;
const processes: ManagedProcess[] = [];

const startSandboxWorker = async () => {
  const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
  const child = await startWorkerProcess('sandbox', {
    prefix: platform.prefix,
    extraEnv: {
      AGENTS_SANDBOX_HOST_ID: 'codex-kill',
      AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
      AGENTS_MODEL_GATEWAY_URL: platform.gateway!.url,
      AGENTS_PRIVATE_NETWORK_ALLOWLIST: '127.0.0.0/8',
      AGENTS_EGRESS_SOCKET_DIR: socketDir,
    },
  });
  processes.push(child);
  return child;
};

beforeAll(async () => {
  socketDir = await mkdtemp('/tmp/egress-codex-kill-');
  platform = await startTestPlatform({
    label: 'codex-kill',
    workers: ['session', 'model'],
    privateNetworkAllowlist: ['127.0.0.0/8'],
    claudeHarness: { providerKey: `sk-provider-${randomBytes(8).toString('hex')}` },
  });
  harness = await startApiOn(platform, 'codex-kill', { sessionSettings: { sandboxHeartbeatTimeoutMs: 5_000 } });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  await startSandboxWorker();
});

afterAll(async () => {
  await Promise.all(processes.splice(0).map((child) => child.stop('SIGKILL')));
  await harness?.stop();
  await platform?.stop();
  await rm(socketDir, { recursive: true, force: true });
});

it('continues the conversation with its context after the sandbox worker is killed mid-turn', async () => {
  const model = `${platform.prefix}-codex`;
  const holdKey = `${platform.prefix}-hold`;
  platform.fakeModel.setScript(model, [
    { text: 'The first answer is 41.' },
    { text: 'Working on the second', holdAfterFirstChunk: holdKey },
    { text: 'The second answer is 42.' },
  ]);
  const agent = await client.beta.agents.create({
    name: 'codex',
    model: { id: model, provider: 'openai-responses' },
    harness: { type: 'codex' },
  } as never);
  const environment = await client.beta.environments.create({
    name: `env-${platform.prefix}`,
    config: { type: 'cloud', networking: { type: 'limited' } },
  });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  const send = (text: string) =>
    client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });

  await send('What is the first answer?');
  await waitForIdle(harness, session.id, 'end_turn', 1);

  await send('And the second?');
  await eventually(async () => (platform.fakeModel.held().includes(holdKey) ? true : undefined));
  await processes.shift()!.stop('SIGKILL');
  await startSandboxWorker();
  await waitForIdle(harness, session.id, 'end_turn', 2);

  const requests = platform.fakeModel.requests(model);
  const last = JSON.stringify(requests.at(-1)!.body.input);
  expect(last).toContain('What is the first answer?');
  expect(last).toContain('The first answer is 41.');
  expect(last.split('And the second?').length - 1).toBe(1); // the retried step did not send it again
  const messages = (await listEvents(harness, session.id)).flatMap((event) =>
    event.type === 'agent.message' ? [event.content.map((block) => block.text).join('')] : [],
  );
  expect(messages).toEqual(['The first answer is 41.', 'The second answer is 42.']);
}, 300_000);
