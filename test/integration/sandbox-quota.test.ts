// The `max_live_sandboxes` quota: with a limit of 1, a tenant's second session that needs a sandbox waits (its tool
// call is journaled, its result is not) while the first session's container runs, and carries on once that container
// is gone. The limit is the tenant's own override, set through the admin API.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueApiKey } from '../../db/repositories/api-keys.ts';
import { countLiveSandboxes } from '../../db/repositories/sandbox-runs.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('sandbox-quota', { workers: ['session', 'model', 'sandbox', 'backend'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  await harness?.stop();
});

const types = async (sessionId: string) =>
  (await readEvents(harness.platform.pool, sessionId)).map(({ event }) => event.type);

it("makes a tenant's session wait for a sandbox while it runs its max_live_sandboxes", async () => {
  const { key } = await issueApiKey(harness.platform.pool, { tenantId: null, name: 'ops', scope: 'admin' });
  const limited = await harness.request(`/v1/admin/tenants/${harness.tenant.tenantId}`, {
    method: 'POST',
    apiKey: key,
    body: JSON.stringify({ limits: { max_live_sandboxes: 1 } }),
  });
  expect(limited.status, await limited.clone().text()).toBe(200);
  expect(
    ((await limited.json()) as { effective_limits: { max_live_sandboxes: number } }).effective_limits,
  ).toMatchObject({ max_live_sandboxes: 1 });

  const model = `${harness.platform.prefix}-quota`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'echo first' } }] },
    { text: 'first done' },
    { toolCalls: [{ name: 'bash', input: { command: 'echo second' } }] },
    { text: 'second done' },
  ]);
  const agent = await client.beta.agents.create({ name: 'quota', model, tools: [{ type: 'agent_toolset_20260401' }] });
  const environment = await client.beta.environments.create({ name: `quota-${harness.platform.prefix}` });
  const send = (sessionId: string) =>
    client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'run it' }] }],
    });

  const first = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await send(first.id);
  await eventually(async () => ((await types(first.id)).includes('session.status_idle') ? true : undefined), 120_000);
  // The first session's container keeps running while it is idle (it pauses only after idlePauseMs).
  expect(await countLiveSandboxes(harness.platform.pool, harness.tenant.tenantId)).toBe(1);

  const second = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  await send(second.id);
  await eventually(async () => ((await types(second.id)).includes('agent.tool_use') ? true : undefined), 60_000);
  // Several polls of the quota later, the second session is still waiting for its sandbox.
  for (let check = 0; check < 5; check++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await types(second.id)).not.toContain('agent.tool_result');
  }

  // The first session's container goes with it; the second session gets its sandbox and finishes its turn.
  await client.beta.sessions.delete(first.id);
  await eventually(async () => ((await types(second.id)).includes('session.status_idle') ? true : undefined), 120_000);
  const events = await readEvents(harness.platform.pool, second.id);
  const result = events.find(({ event }) => event.type === 'agent.tool_result');
  expect(JSON.stringify(result?.event)).toContain('second');
});
