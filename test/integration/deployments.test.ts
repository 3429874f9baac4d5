// Deployments through the official SDK (client.beta.deployments.*, client.beta.deploymentRuns.*) on real Temporal
// Schedules: an every-minute schedule's computed times and its firings (backfilled over the past minutes, so the test
// does not wait for the clock), a seconds schedule (AGENTS_DEPLOYMENT_SECONDS_CRON, tests only) paused and unpaused,
// `run` now, the trigger URL, an archived agent's run error (and the auto-pause it causes on a scheduled firing), runs
// filtered by deployment and trigger type, update and archive following through to the schedule.
import Anthropic from '@anthropic-ai/sdk';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
let client: Anthropic;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  harness = await startApiHarness('deployments', {
    workers: ['session', 'model', 'automation'],
    env: { AGENTS_DEPLOYMENT_SECONDS_CRON: 'true' },
  });
  // The SDK's default retries: a schedule call that outlasts its 5 s bound (Temporal slow under a loaded suite, seen
  // beside the chaos soak in CI) answers 503 with retry-after and changes nothing, and a client retries it.
  client = new Anthropic({ apiKey: harness.tenant.apiKey, baseURL: harness.baseURL, maxRetries: 2 });
  const agent = await client.beta.agents.create({ name: 'reporter', model: `${harness.platform.prefix}-model` });
  agentId = agent.id;
  const environment = await client.beta.environments.create({ name: `env-${harness.platform.prefix}` });
  environmentId = environment.id;
});
afterAll(async () => {
  await harness?.stop();
});

const initialEvents = [{ type: 'user.message' as const, content: [{ type: 'text' as const, text: 'Daily report.' }] }];
const schedule = (id: string) => harness.platform.client.schedule.getHandle(`deployment-${id}`);

async function runsOf(deploymentId: string, triggerType?: 'schedule' | 'manual') {
  const runs = [];
  for await (const run of client.beta.deploymentRuns.list({ deployment_id: deploymentId, trigger_type: triggerType })) {
    runs.push(run);
  }
  return runs;
}

it('fires an every-minute schedule: computed times, backfilled firings as runs with sessions', async () => {
  const deployment = await client.beta.deployments.create({
    agent: agentId,
    environment_id: environmentId,
    initial_events: initialEvents,
    name: 'Every minute',
    metadata: { team: 'ops' },
    schedule: { type: 'cron', expression: '* * * * *', timezone: 'Europe/Paris' },
  });
  expect(deployment).toMatchObject({
    type: 'deployment',
    status: 'active',
    paused_reason: null,
    agent: { type: 'agent', id: agentId, version: 1 },
    schedule: { type: 'cron', expression: '* * * * *', timezone: 'Europe/Paris', last_run_at: null },
  });
  const upcoming = deployment.schedule!.upcoming_runs_at!.map((time) => Date.parse(time));
  expect(upcoming).toHaveLength(5);
  expect(upcoming.slice(1).map((time, index) => time - upcoming[index]!)).toEqual([60_000, 60_000, 60_000, 60_000]);
  expect((await schedule(deployment.id).describe()).scheduleId).toBe(`deployment-${deployment.id}`);

  // Three past minutes, fired now as the schedule would have fired them; buffered, so one after another (the
  // schedule's own policy, SKIP, would drop the firings that find the previous run still in flight).
  const now = Date.now();
  await schedule(deployment.id).backfill({
    start: new Date(now - 3 * 60_000 - 1_000),
    end: new Date(now - 1_000),
    overlap: ScheduleOverlapPolicy.BUFFER_ALL,
  });
  const runs = await eventually(async () => {
    const found = await runsOf(deployment.id, 'schedule');
    return found.length === 3 && found.every((run) => run.session_id) ? found : undefined;
  });
  const instants = runs.map((run) => (run.trigger_context as { scheduled_at: string }).scheduled_at);
  expect(new Set(instants).size).toBe(3);
  for (const instant of instants) expect(new Date(instant).getUTCSeconds()).toBe(0);
  for (const run of runs) {
    expect(run).toMatchObject({ type: 'deployment_run', error: null, agent: { id: agentId, version: 1 } });
    const session = await client.beta.sessions.retrieve(run.session_id!);
    expect(session).toMatchObject({ title: 'Every minute', metadata: { team: 'ops' }, environment_id: environmentId });
  }
  const reread = await client.beta.deployments.retrieve(deployment.id);
  expect(reread.schedule?.last_run_at).not.toBeNull();
  expect(await runsOf(deployment.id, 'manual')).toEqual([]);
});

it('pauses and unpauses a seconds schedule; run fires at once', async () => {
  const deployment = await client.beta.deployments.create({
    agent: { type: 'agent', id: agentId, version: 1 },
    environment_id: environmentId,
    initial_events: initialEvents,
    name: 'Every two seconds',
    schedule: { type: 'cron', expression: '*/2 * * * * *', timezone: 'UTC' },
  });
  await eventually(async () => ((await runsOf(deployment.id)).length >= 2 ? true : undefined));

  const paused = await client.beta.deployments.pause(deployment.id);
  expect(paused).toMatchObject({ status: 'paused', paused_reason: { type: 'manual' } });
  expect(paused.schedule?.upcoming_runs_at?.length).toBeGreaterThan(0);
  expect((await schedule(deployment.id).describe()).state.paused).toBe(true);
  expect((await client.beta.deployments.list({ status: 'paused' })).data.map((item) => item.id)).toContain(
    deployment.id,
  );
  // A firing already in flight when the pause landed may still record its run; after that, none.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const whilePaused = (await runsOf(deployment.id)).length;
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  expect((await runsOf(deployment.id)).length).toBe(whilePaused);

  // Manual runs are allowed while paused.
  const manual = await client.beta.deployments.run(deployment.id);
  expect(manual).toMatchObject({ type: 'deployment_run', trigger_context: { type: 'manual' }, error: null });
  expect((await client.beta.sessions.retrieve(manual.session_id!)).status).toBeDefined();
  expect((await client.beta.deploymentRuns.retrieve(manual.id)).session_id).toBe(manual.session_id);

  const resumed = await client.beta.deployments.unpause(deployment.id);
  expect(resumed).toMatchObject({ status: 'active', paused_reason: null });
  await eventually(async () =>
    (await runsOf(deployment.id, 'schedule')).length >= whilePaused + 1 ? true : undefined,
  );
  await client.beta.deployments.archive(deployment.id);
});

it('records an archived agent as the run error and pauses a scheduled deployment on it', async () => {
  const doomed = await client.beta.agents.create({ name: 'doomed', model: `${harness.platform.prefix}-model` });
  const deployment = await client.beta.deployments.create({
    agent: doomed.id,
    environment_id: environmentId,
    initial_events: initialEvents,
    name: 'Hourly',
    schedule: { type: 'cron', expression: '0 * * * *', timezone: 'UTC' },
  });
  await client.beta.agents.archive(doomed.id);

  const run = await client.beta.deployments.run(deployment.id);
  expect(run).toMatchObject({ session_id: null, error: { type: 'agent_archived_error' } });
  expect((await client.beta.deployments.retrieve(deployment.id)).status).toBe('active');

  const now = Date.now();
  await schedule(deployment.id).backfill({ start: new Date(now - 3_600_000), end: new Date(now) });
  // The run's row is written when it starts, its error when it ends.
  const failed = await eventually(async () => {
    const [run] = await runsOf(deployment.id, 'schedule');
    return run?.error ? run : undefined;
  });
  expect(failed).toMatchObject({ session_id: null, error: { type: 'agent_archived_error' } });
  const paused = await eventually(async () => {
    const current = await client.beta.deployments.retrieve(deployment.id);
    return current.status === 'paused' ? current : undefined;
  });
  expect(paused.paused_reason).toEqual({ type: 'error', error: { type: 'agent_archived_error' } });
  expect((await schedule(deployment.id).describe()).state.paused).toBe(true);
  const failures = await client.beta.deploymentRuns.list({ deployment_id: deployment.id, has_error: true });
  expect(failures.data).toHaveLength(2);
});

it('starts a run from the trigger URL with the request body as an event', async () => {
  const deployment = await client.beta.deployments.create({
    agent: agentId,
    environment_id: environmentId,
    initial_events: initialEvents,
    name: 'On ticket',
  });
  expect(deployment.schedule).toBeNull();
  await expect(schedule(deployment.id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  const response = await harness.request(`/v1/deployments/${deployment.id}/trigger`, {
    method: 'POST',
    body: JSON.stringify({ ticket: 'T-42', summary: 'printer on fire' }),
  });
  expect(response.status).toBe(200);
  const run = (await response.json()) as { session_id: string; trigger_context: unknown };
  expect(run.trigger_context).toEqual({ type: 'manual', source: 'trigger_url' });
  const texts = await eventually(async () => {
    const events = await client.beta.sessions.events.list(run.session_id);
    const messages = events.data.filter((event) => event.type === 'user.message');
    return messages.length === 2 ? messages : undefined;
  });
  expect(JSON.stringify(texts[1])).toContain('printer on fire');
  const unauthenticated = await harness.request(`/v1/deployments/${deployment.id}/trigger`, {
    method: 'POST',
    body: '{}',
    apiKey: null,
  });
  expect(unauthenticated.status).toBe(401);
});

it('updates and archives: the schedule follows, bad input is a 4xx', async () => {
  const deployment = await client.beta.deployments.create({
    agent: agentId,
    environment_id: environmentId,
    initial_events: initialEvents,
    name: 'Weekdays',
    schedule: { type: 'cron', expression: '0 9 * * 1-5', timezone: 'America/New_York' },
  });
  const updated = await client.beta.deployments.update(deployment.id, {
    name: 'Weekdays at ten',
    schedule: { type: 'cron', expression: '0 10 * * 1-5', timezone: 'America/New_York' },
    metadata: { owner: 'me' },
  });
  expect(updated).toMatchObject({ name: 'Weekdays at ten', metadata: { owner: 'me' } });
  const description = await schedule(deployment.id).describe();
  expect(description.spec.calendars?.[0]?.hour).toEqual([{ start: 10, end: 10, step: 1 }]);

  const manualOnly = await client.beta.deployments.update(deployment.id, { schedule: null });
  expect(manualOnly.schedule).toBeNull();
  await expect(schedule(deployment.id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

  const archived = await client.beta.deployments.archive(deployment.id);
  expect(archived.archived_at).not.toBeNull();
  await expect(client.beta.deployments.run(deployment.id)).rejects.toMatchObject({ status: 400 });
  const listed = await client.beta.deployments.list();
  expect(listed.data.map((item) => item.id)).not.toContain(deployment.id);
  const withArchived = await client.beta.deployments.list({ include_archived: true });
  expect(withArchived.data.map((item) => item.id)).toContain(deployment.id);

  const bad = { agent: agentId, environment_id: environmentId, initial_events: initialEvents, name: 'bad' };
  for (const expression of ['* * * *', '*/0 * * * *', '0 0 L * *', '@daily', '61 * * * *']) {
    await expect(
      client.beta.deployments.create({ ...bad, schedule: { type: 'cron', expression, timezone: 'UTC' } }),
    ).rejects.toMatchObject({ status: 400 });
  }
  await expect(
    client.beta.deployments.create({
      ...bad,
      schedule: { type: 'cron', expression: '* * * * *', timezone: 'Mars/Base' },
    }),
  ).rejects.toMatchObject({ status: 400 });
  await expect(client.beta.deployments.create({ ...bad, vault_ids: ['vlt_missing'] })).rejects.toMatchObject({
    status: 404,
  });
  await expect(client.beta.deployments.create({ ...bad, initial_events: [] })).rejects.toMatchObject({ status: 400 });
  await expect(client.beta.deployments.retrieve('depl_nope')).rejects.toMatchObject({ status: 404 });
});

it('records a run refused by the tenant’s running-sessions quota as session_rate_limited_error', async () => {
  const model = `${harness.platform.prefix}-held`;
  harness.platform.fakeModel.setScript(model, [{ text: 'working on it', holdAfterFirstChunk: `${model}-turn` }]);
  const busy = await client.beta.agents.create({ name: 'busy', model });
  const session = await client.beta.sessions.create({ agent: busy.id, environment_id: environmentId });
  await client.beta.sessions.events.send(session.id, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'take your time' }] }],
  });
  const { pool, client: temporal } = harness.platform;
  const tenantId = harness.tenant.tenantId;
  await eventually(async () => {
    const { count } = await temporal.workflow.count(
      `WorkflowType = 'sessionWorkflow' AND TenantId = '${tenantId}' AND SessionStatus = 'running'`,
    );
    return count >= 1 ? true : undefined;
  });
  await pool.query(`update tenants set limits = '{"max_running_sessions": 1}' where id = $1`, [tenantId]);
  try {
    const deployment = await client.beta.deployments.create({
      agent: agentId,
      environment_id: environmentId,
      initial_events: initialEvents,
      name: 'Over quota',
    });
    const run = await client.beta.deployments.run(deployment.id);
    expect(run).toMatchObject({ session_id: null, error: { type: 'session_rate_limited_error' } });
  } finally {
    await pool.query(`update tenants set limits = '{}' where id = $1`, [tenantId]);
    harness.platform.fakeModel.release(`${model}-turn`);
  }
});
