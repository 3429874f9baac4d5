// Provider mode against our own control plane: this platform's sandbox host serves a self-hosted environment's
// session through the work protocol (the official SDK's runner with our Docker toolset). The session's write, bash and
// read run in a hardened container of its own — /workspace, uid 1000, no network — not on the provider's machine, and
// the container outlives the work item (paused), so the next turn finds its files.
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import { startProviderWorker, type ProviderWorker } from '../../workers/provider-worker.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { testContainerLabels } from '../support/platform.ts';

let harness: ApiHarness;
let provider: ProviderWorker | undefined;
const docker = new Docker();

beforeAll(async () => {
  harness = await startApiHarness('self-hosted-provider', { workers: ['session', 'model'] });
});
afterAll(async () => {
  await provider?.stop();
  await harness?.stop();
});

const resultText = (event: BetaManagedAgentsSessionEvent): string =>
  event.type === 'user.tool_result'
    ? (event.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('')
    : '';

it('serves a self-hosted session in a Docker sandbox of its own', async () => {
  const client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const environment = await client.beta.environments.create({
    name: `provider-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, { method: 'POST', body: '{}' });
  const { key } = (await created.json()) as { key: string };
  provider = startProviderWorker({
    apiUrl: harness.baseURL,
    environmentId: environment.id,
    environmentKey: key,
    docker,
    image: inject('sandboxImage'),
    extraLabels: testContainerLabels(),
  });

  const model = `${harness.platform.prefix}-provider`;
  harness.platform.fakeModel.setScript(model, [
    {
      toolCalls: [
        { name: 'write', input: { file_path: 'notes.txt', content: 'kept in the sandbox\n' } },
        { name: 'bash', input: { command: 'pwd; id -u; cat notes.txt' } },
      ],
    },
    { toolCalls: [{ name: 'read', input: { file_path: 'notes.txt' } }] },
    { text: 'Done.' },
  ]);
  const agent = await client.beta.agents.create({ name: model, model, tools: [{ type: 'agent_toolset_20260401' }] });
  const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Write and read.' }] }],
  });
  const events = await eventually(
    async () => {
      const all: BetaManagedAgentsSessionEvent[] = [];
      for await (const event of client.beta.sessions.events.list(session.id)) all.push(event);
      const ended = all.some((event) => event.type === 'session.status_idle' && event.stop_reason.type === 'end_turn');
      return ended ? all : undefined;
    },
    120_000,
    'the turn to end',
  );
  const results = events.filter((event) => event.type === 'user.tool_result');
  expect(results).toHaveLength(3);
  expect(results.every((event) => event.type === 'user.tool_result' && !event.is_error)).toBe(true);
  expect(resultText(results[1]!)).toMatch(/\/workspace\s+1000\s+kept in the sandbox/);
  expect(resultText(results[2]!)).toContain('kept in the sandbox');

  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${sandboxLabels.session}=${session.id}`] },
  });
  expect(containers).toHaveLength(1);
  expect(containers[0]?.HostConfig.NetworkMode).toBe('none');
});
