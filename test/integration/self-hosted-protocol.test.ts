// The self-hosted work protocol call by call, through the official SDK (no runner): with no runner attached the session
// waits running and the queue's stats show the backlog; a poll hands out the item with its secret; a stale heartbeat
// gets 412 with the lease as the server holds it; the item's sessions token reaches its own session and work calls
// only — not another session, not another tenant, not other resources — and dies with the item; a revoked
// environment key is refused.
import Anthropic from '@anthropic-ai/sdk';
import { BetaHeartbeatPreconditionFailedError } from '@anthropic-ai/sdk/resources/beta/environments/work';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { recordHistory } from '../support/histories.ts';

let harness: ApiHarness;
let client: Anthropic;
beforeAll(async () => {
  harness = await startApiHarness('self-hosted-protocol', { workers: ['session', 'model'] });
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
});
afterAll(async () => {
  for (const line of harness?.logLines ?? []) if (line.includes('"level":50')) console.error(line.slice(0, 1500));
  await harness?.stop();
});

const bearer = (token: string) =>
  new Anthropic({ apiKey: null, authToken: token, baseURL: harness.baseURL, maxRetries: 0 });

async function sessionIn(api: Anthropic, environmentId: string, model: string): Promise<string> {
  const agent = await api.beta.agents.create({ name: model, model, tools: [{ type: 'agent_toolset_20260401' }] });
  return (await api.beta.sessions.create({ agent: agent.id, environment_id: environmentId })).id;
}

it('serves the work protocol: backlog, poll, ack, heartbeat precondition, scoped token, stop', async () => {
  const environment = await client.beta.environments.create({
    name: `protocol-${harness.platform.prefix}`,
    config: { type: 'self_hosted' },
  });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, { method: 'POST', body: '{}' });
  const { key: environmentKey, id: keyId } = (await created.json()) as { key: string; id: string };
  const listed = (await (await harness.request(`/v1/environments/${environment.id}/keys`)).json()) as {
    data: Record<string, unknown>[];
  };
  expect(listed.data).toHaveLength(1);
  expect(JSON.stringify(listed.data)).not.toContain(environmentKey);

  const model = `${harness.platform.prefix}-protocol`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'bash', input: { command: 'echo hi' } }] },
    { text: 'The runner said hi.' },
  ]);
  const sessionId = await sessionIn(client, environment.id, model);
  const otherSessionId = await sessionIn(client, environment.id, `${model}-other`);
  // Created without a message, a session asks for no runner yet (its turn will).
  expect(await client.beta.environments.work.stats(environment.id)).toMatchObject({ depth: 0, pending: 0 });
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Say hi.' }] }],
  });

  // No runner attached: the call waits, the session stays running, the queue shows one item waiting.
  const use = await eventually(async () => {
    for await (const event of client.beta.sessions.events.list(sessionId)) {
      if (event.type === 'agent.tool_use') return event;
    }
    return undefined;
  });
  const stats = await eventually(async () => {
    const current = await client.beta.environments.work.stats(environment.id);
    return current.depth === 1 ? current : undefined;
  });
  expect(stats).toMatchObject({ depth: 1, pending: 0, workers_polling: 0 });
  expect(stats.oldest_queued_at).not.toBeNull();
  expect((await client.beta.sessions.retrieve(sessionId)).status).toBe('running');
  const waiting = (await client.beta.environments.work.list(environment.id)).data.find((i) => i.data.id === sessionId);
  expect(waiting?.state).toBe('queued');

  const runner = bearer(environmentKey);
  const work = await runner.beta.environments.work.poll(environment.id, { block_ms: 500, 'Anthropic-Worker-ID': 'w1' });
  expect(work).toMatchObject({ state: 'queued', data: { type: 'session', id: sessionId } });
  const used = (await (await harness.request(`/v1/environments/${environment.id}/keys`)).json()) as {
    data: { last_used_at: string | null }[];
  };
  expect(used.data[0]?.last_used_at).not.toBeNull();
  const secret = JSON.parse(Buffer.from(work!.secret!, 'base64url').toString('utf8')) as {
    sessions_token: string;
    api_base_url: string;
  };
  expect(secret.api_base_url).toBe(harness.baseURL);
  expect(await client.beta.environments.work.stats(environment.id)).toMatchObject({ depth: 0, pending: 1 });
  expect(await runner.beta.environments.work.poll(environment.id)).toBeNull();
  const acked = await runner.beta.environments.work.ack(work!.id, { environment_id: environment.id });
  expect(acked.state).toBe('starting');

  const token = bearer(secret.sessions_token);
  const params = { environment_id: environment.id };
  const first = await token.beta.environments.work.heartbeat(work!.id, {
    ...params,
    expected_last_heartbeat: 'NO_HEARTBEAT',
  });
  expect(first).toMatchObject({ type: 'work_heartbeat', lease_extended: true, state: 'active' });
  const second = await token.beta.environments.work.heartbeat(work!.id, {
    ...params,
    expected_last_heartbeat: first.last_heartbeat,
  });
  expect(second.last_heartbeat).not.toBe(first.last_heartbeat);
  // A stale heartbeat (the first one again, as a runner that lost the lease would send it): 412, the lease as it is.
  const stale = await token.beta.environments.work
    .heartbeat(work!.id, { ...params, expected_last_heartbeat: first.last_heartbeat })
    .catch((error: unknown) => error);
  expect(stale).toBeInstanceOf(BetaHeartbeatPreconditionFailedError);
  expect((stale as BetaHeartbeatPreconditionFailedError).details.current_state).toMatchObject({
    state: 'active',
    last_heartbeat: second.last_heartbeat,
    lease_extended: false,
  });

  // The token reaches its own session, nothing else.
  expect((await token.beta.sessions.retrieve(sessionId)).id).toBe(sessionId);
  const denied = (call: Promise<unknown>) => expect(call).rejects.toMatchObject({ status: 403 });
  await denied(token.beta.sessions.retrieve(otherSessionId));
  await denied(token.beta.sessions.events.list(otherSessionId));
  await denied(token.beta.sessions.list());
  await denied(token.beta.agents.list());
  await denied(token.beta.environments.work.stats(environment.id));
  await denied(token.beta.environments.work.poll(environment.id));
  await denied(runner.beta.sessions.retrieve(sessionId));
  const other = await createTenantWithKey(harness.platform.pool, 'protocol other tenant');
  const otherClient = new Anthropic({ apiKey: other.apiKey, baseURL: harness.baseURL, maxRetries: 0 });
  const otherEnvironment = await otherClient.beta.environments.create({
    name: 'other',
    config: { type: 'self_hosted' },
  });
  const foreignSession = await sessionIn(otherClient, otherEnvironment.id, `${model}-foreign`);
  await denied(token.beta.sessions.retrieve(foreignSession));
  await denied(token.beta.environments.work.list(otherEnvironment.id));
  await denied(runner.beta.environments.work.poll(otherEnvironment.id));

  // Acting as the runner: the result goes back as an event and the turn ends.
  await token.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'hi' }] }],
  });
  await eventually(async () => {
    const events = [];
    for await (const event of token.beta.sessions.events.list(sessionId)) events.push(event);
    return events.at(-1)?.type === 'session.status_idle' ? events : undefined;
  });
  await expect(
    token.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'again' }] }],
    }),
  ).rejects.toMatchObject({ status: 400 });

  // A graceful stop: the next heartbeat says stopping; the forced stop ends the item and its token.
  expect((await client.beta.environments.work.stop(work!.id, params)).state).toBe('stopping');
  const winding = await token.beta.environments.work.heartbeat(work!.id, {
    ...params,
    expected_last_heartbeat: second.last_heartbeat,
  });
  expect(winding).toMatchObject({ state: 'stopping', lease_extended: false });
  expect((await token.beta.environments.work.stop(work!.id, { ...params, force: true })).state).toBe('stopped');
  await expect(token.beta.sessions.retrieve(sessionId)).rejects.toMatchObject({ status: 401 });
  await expect(client.beta.environments.work.stop(work!.id, params)).rejects.toMatchObject({ status: 409 });

  // A session that ends takes its waiting item with it: the backlog empties.
  const endingModel = `${model}-ending`;
  harness.platform.fakeModel.setScript(endingModel, [{ toolCalls: [{ name: 'bash', input: { command: 'true' } }] }]);
  const ending = await sessionIn(client, environment.id, endingModel);
  await client.beta.sessions.events.send(ending, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Never served.' }] }],
  });
  await eventually(async () =>
    (await client.beta.environments.work.stats(environment.id)).depth === 1 ? 1 : undefined,
  );
  await client.beta.sessions.archive(ending);
  expect(await client.beta.environments.work.stats(environment.id)).toMatchObject({ depth: 0, pending: 0 });
  const endedItem = (await client.beta.environments.work.list(environment.id)).data.find((i) => i.data.id === ending);
  expect(endedItem?.state).toBe('stopped');

  const revoke = await harness.request(`/v1/environments/${environment.id}/keys/${keyId}/revoke`, { method: 'POST' });
  expect(((await revoke.json()) as { revoked_at: string | null }).revoked_at).not.toBeNull();
  await expect(runner.beta.environments.work.poll(environment.id)).rejects.toMatchObject({ status: 401 });
});

const environmentWithKey = async (name: string) => {
  const environment = await client.beta.environments.create({ name, config: { type: 'self_hosted' } });
  const created = await harness.request(`/v1/environments/${environment.id}/keys`, { method: 'POST', body: '{}' });
  return { environmentId: environment.id, runner: bearer(((await created.json()) as { key: string }).key) };
};

const eventsOf = async (sessionId: string) => {
  const events = [];
  for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
  return events;
};

it('queues the item when a turn starts (created with a message, or woken after dormancy), before any tool call', async () => {
  const { environmentId, runner } = await environmentWithKey(`turns-${harness.platform.prefix}`);
  const model = `${harness.platform.prefix}-turns`;
  harness.platform.fakeModel.setScript(model, [{ text: 'No tools needed.' }, { text: 'Still none.' }]);
  const sessionId = await sessionIn(client, environmentId, model);
  const say = (text: string) =>
    client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
    });
  const turnsEnded = (count: number) =>
    eventually(async () => {
      const ended = (await eventsOf(sessionId)).filter((event) => event.type === 'session.status_idle');
      return ended.length === count ? ended : undefined;
    });
  await say('Hello.');
  await turnsEnded(1);
  // The turn asked for a runner though it called no tool: the runner the SDK runs would connect, see the turn end
  // and let go after its idle time; here the test plays it (poll, ack, force stop).
  const first = await runner.beta.environments.work.poll(environmentId, { block_ms: 500 });
  expect(first).toMatchObject({ data: { type: 'session', id: sessionId } });
  await runner.beta.environments.work.ack(first!.id, { environment_id: environmentId });
  await runner.beta.environments.work.stop(first!.id, { environment_id: environmentId, force: true });
  expect(await client.beta.environments.work.stats(environmentId)).toMatchObject({ depth: 0, pending: 0 });

  // Woken after dormancy: the next message queues a new item.
  await say('Again.');
  await turnsEnded(2);
  const second = await runner.beta.environments.work.poll(environmentId, { block_ms: 500 });
  expect(second).toMatchObject({ data: { type: 'session', id: sessionId } });
  expect(second!.id).not.toBe(first!.id);
  await runner.beta.environments.work.stop(second!.id, { environment_id: environmentId, force: true });
});

it('answers a runner call with invalid input itself (deny: no runner runs it) and refuses out-of-place results', async () => {
  const { environmentId } = await environmentWithKey(`invalid-${harness.platform.prefix}`);
  const model = `${harness.platform.prefix}-invalid`;
  harness.platform.fakeModel.setScript(model, [
    { toolCalls: [{ name: 'write', input: { path: 'notes.txt' } }] },
    { text: 'The write was refused.' },
  ]);
  const sessionId = await sessionIn(client, environmentId, model);
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Write without a file_path.' }] }],
  });
  const events = await eventually(async () => {
    const all = await eventsOf(sessionId);
    return all.some((event) => event.type === 'session.status_idle') ? all : undefined;
  });
  const use = events.find((event) => event.type === 'agent.tool_use');
  expect(use).toMatchObject({ name: 'write', evaluated_permission: 'deny' });
  const result = events.find((event) => event.type === 'agent.tool_result');
  expect(result).toMatchObject({ tool_use_id: use!.id, is_error: true });
  expect(JSON.stringify(result)).toContain('file_path');
  expect(events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
  // The call was answered here: a runner's result for it is refused before it reaches the session.
  await expect(
    client.beta.sessions.events.send(sessionId, {
      events: [{ type: 'user.tool_result', tool_use_id: use!.id, content: [{ type: 'text', text: 'ran anyway' }] }],
    }),
  ).rejects.toMatchObject({ status: 400 });
  await recordHistory(harness.platform.client, sessionWorkflowId(sessionId), 'self-hosted-invalid-runner-input');

  // always_ask: until the user confirms, a runner's result for the call is refused too (it must not run unconfirmed).
  const askModel = `${model}-ask`;
  harness.platform.fakeModel.setScript(askModel, [{ toolCalls: [{ name: 'bash', input: { command: 'true' } }] }]);
  const agent = await client.beta.agents.create({
    name: askModel,
    model: askModel,
    tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
  });
  const asked = (await client.beta.sessions.create({ agent: agent.id, environment_id: environmentId })).id;
  await client.beta.sessions.events.send(asked, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Run it.' }] }],
  });
  const askedUse = await eventually(async () =>
    (await eventsOf(asked)).find((event) => event.type === 'agent.tool_use' && event.evaluated_permission === 'ask'),
  );
  await expect(
    client.beta.sessions.events.send(asked, {
      events: [{ type: 'user.tool_result', tool_use_id: askedUse.id, content: [{ type: 'text', text: 'too early' }] }],
    }),
  ).rejects.toMatchObject({ status: 400 });
  await client.beta.sessions.archive(asked);

  // Memory stores are the runner's to keep in its workdir (test/integration/memory-self-hosted.test.ts): no mount path.
  const store = await client.beta.memoryStores.create({ name: `self-hosted ${model}` });
  const withMemory = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environmentId,
    resources: [{ type: 'memory_store', memory_store_id: store.id }],
  });
  expect(withMemory.resources).toEqual([expect.objectContaining({ memory_store_id: store.id, mount_path: null })]);
  await client.beta.sessions.archive(withMemory.id);
});
