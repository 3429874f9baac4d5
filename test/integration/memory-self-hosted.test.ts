// Memory stores in a self-hosted environment: the official SDK's runner, unmodified, downloads the session's store
// with its sessions token into `<workdir>/memory/<name>/` (the resource has no mount_path, so the runner's own
// fallback; the model is told that folder), the agent reads and writes it there with bash, and the runner's sync
// writes the change back as a version by the session. The sessions token reaches only the attached stores' memories.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSessionEvent } from '@anthropic-ai/sdk/resources/beta/sessions/events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/services/process.ts';
import { WorkTokens } from '../../api/work-tokens.ts';
import { developmentVaultKey } from '../../domain/config.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { startOfficialRunner } from '../support/runner-processes.ts';

let harness: ApiHarness;
let client: Anthropic;
let runner: ManagedProcess | undefined;

beforeAll(async () => {
  harness = await startApiHarness('memory-runner', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await runner?.stop('SIGKILL');
  await harness?.stop();
});

it("the official runner mounts the session's memory store in its workdir and syncs the agent's write back", async () => {
  const store = await client.beta.memoryStores.create({ name: 'Runner Notes' });
  await client.beta.memoryStores.memories.create(store.id, { path: '/about.md', content: 'owner: runner tests' });
  const other = await client.beta.memoryStores.create({ name: 'Not attached' });
  const environment = await client.beta.environments.create({
    name: `memory-runner-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, {
    method: 'POST',
    body: JSON.stringify({ name: 'memory runner' }),
  });
  const { key } = (await created.json()) as { key: string };

  const model = `${harness.platform.prefix}-runner-memory`;
  const folder = 'memory/Runner Notes';
  harness.platform.fakeModel.setScript(model, [
    {
      toolCalls: [
        {
          name: 'bash',
          input: { command: `cat "${folder}/about.md"; echo; printf 'likes saffron' > "${folder}/colour.md"` },
        },
      ],
    },
    { text: 'Saved.' },
  ]);
  const agent = await client.beta.agents.create({
    name: 'runner memory',
    model,
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    resources: [{ type: 'memory_store', memory_store_id: store.id }],
  });
  expect(session.resources).toEqual([
    expect.objectContaining({ type: 'memory_store', memory_store_id: store.id, mount_path: null }),
  ]);
  const workdir = mkdtempSync(join(tmpdir(), 'runner-memory-'));
  runner = await startOfficialRunner({
    baseURL: harness.baseURL,
    environmentId: environment.id,
    environmentKey: key,
    workdir,
  });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Remember my colour.' }] }],
  });

  const events = await eventually(
    async () => {
      const all: BetaManagedAgentsSessionEvent[] = [];
      for await (const event of client.beta.sessions.events.list(session.id, { limit: 100 })) all.push(event);
      const ended = all.some((event) => event.type === 'session.status_idle' && event.stop_reason.type === 'end_turn');
      return ended ? all : undefined;
    },
    60_000,
    'the turn to end',
  );
  const result = events.find((event) => event.type === 'user.tool_result');
  const text =
    result?.type === 'user.tool_result'
      ? (result.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('')
      : '';
  expect(text).toContain('owner: runner tests');
  const system = JSON.stringify(harness.platform.fakeModel.requests(model)[0]?.body.system);
  expect(system).toContain(`Runner Notes (${folder}, read-write)`);

  // While the item runs, its sessions token reaches the attached store's memories only.
  const { rows } = await harness.platform.pool.query<{ id: string }>(
    'select id from work_items where session_id = $1',
    [session.id],
  );
  const token = new WorkTokens(developmentVaultKey).tokenFor(rows[0]!.id);
  const asRunner = new Anthropic({ apiKey: token, baseURL: harness.baseURL, maxRetries: 0 });
  const listed = [];
  for await (const memory of asRunner.beta.memoryStores.memories.list(store.id)) listed.push(memory);
  expect(listed.length).toBeGreaterThan(0);
  await expect(asRunner.beta.memoryStores.memories.list(other.id)).rejects.toMatchObject({ status: 403 });
  await expect(
    asRunner.beta.memoryStores.memories.create(other.id, { path: '/x.md', content: 'x' }),
  ).rejects.toMatchObject({ status: 403 });
  await expect(asRunner.beta.memoryStores.retrieve(store.id)).rejects.toMatchObject({ status: 403 });

  // The runner's sync (periodic, and when its item ends) writes the file back, as a version by the session.
  const colour = await eventually(
    async () => {
      for await (const memory of client.beta.memoryStores.memories.list(store.id, { view: 'full' })) {
        if (memory.type === 'memory' && memory.path === '/colour.md') return memory;
      }
      return undefined;
    },
    90_000,
    'the synced memory',
  );
  expect(colour).toMatchObject({ content: 'likes saffron' });
  const versions = [];
  for await (const version of client.beta.memoryStores.memoryVersions.list(store.id, { memory_id: colour.id })) {
    versions.push(version);
  }
  expect(versions).toEqual([
    expect.objectContaining({ operation: 'created', created_by: { type: 'session_actor', session_id: session.id } }),
  ]);
}, 180_000);
