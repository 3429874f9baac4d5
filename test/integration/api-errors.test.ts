// Bad requests get the right 4xx in Anthropic's one error shape, and write nothing: malformed JSON, wrong types, an
// oversize body, unknown ids, another tenant's ids, a confirmation nobody asked for, no or a wrong key. Temporal or
// PostgreSQL out of reach gives 503 with retry-after, never a 500.
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApi } from '../../api/server.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { loadConfig } from '../../domain/config.ts';
import { sessionWorkflowId } from '../../domain/ids.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('api-errors', { bodyLimitBytes: 64 * 1024 });
});
afterAll(async () => {
  await harness?.stop();
});

async function expectError(response: Response, status: number, type: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'request_id', 'type']);
  expect(body).toMatchObject({ type: 'error', error: { type } });
  expect(Object.keys(body.error as object).sort()).toEqual(['message', 'type']);
  expect(body.request_id).toMatch(/^req_/);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  return (body.error as { message: string }).message;
}

/** This tenant's rows (other test files share the database). */
const counts = async () => {
  const { rows } = await harness.platform.pool.query<Record<string, string>>(
    `select (select count(*) from agents where tenant_id = $1) as agents,
            (select count(*) from environments where tenant_id = $1) as environments,
            (select count(*) from sessions where tenant_id = $1) as sessions,
            (select array_agg(id) from sessions where tenant_id = $1) as session_ids`,
    [harness.tenant.tenantId],
  );
  const { session_ids: sessionIds, ...tables } = rows[0] as Record<string, unknown>;
  const journals = await Promise.all(
    ((sessionIds ?? []) as string[]).map((id) => readEvents(harness.platform.pool, id)),
  );
  return { ...tables, events: journals.reduce((sum, journal) => sum + journal.length, 0) };
};

const agentBody = (model: string) => JSON.stringify({ name: 'errors agent', model, tools: [] });

describe('request errors', () => {
  it('rejects malformed JSON, wrong types and oversize bodies without writing anything', async () => {
    const before = await counts();
    await expectError(
      await harness.request('/v1/agents', { method: 'POST', body: '{"name": "x",' }),
      400,
      'invalid_request_error',
    );
    const message = await expectError(
      await harness.request('/v1/agents', { method: 'POST', body: JSON.stringify({ name: 42, model: 'm' }) }),
      400,
      'invalid_request_error',
    );
    expect(message).toContain('name');
    await expectError(
      await harness.request('/v1/agents', {
        method: 'POST',
        body: JSON.stringify({ name: 'x', model: 'm', tools: [{ type: 'nope' }] }),
      }),
      400,
      'invalid_request_error',
    );
    await expectError(
      await harness.request('/v1/agents', {
        method: 'POST',
        body: JSON.stringify({ name: 'x'.repeat(100_000), model: 'm' }),
      }),
      413,
      'request_too_large',
    );
    await expectError(
      await harness.request('/v1/agents', {
        method: 'POST',
        body: 'name=x',
        headers: { 'content-type': 'text/plain' },
      }),
      400,
      'invalid_request_error',
    );
    await expectError(await harness.request('/v1/agents?limit=-3'), 400, 'invalid_request_error');
    await expectError(await harness.request('/v1/agents?page=not-a-cursor'), 400, 'invalid_request_error');
    expect(await counts()).toEqual(before);
  });

  it('answers 401 without a valid key, and accepts Authorization: Bearer', async () => {
    await expectError(await harness.request('/v1/agents', { apiKey: null }), 401, 'authentication_error');
    await expectError(await harness.request('/v1/agents', { apiKey: 'sk-agents-wrong' }), 401, 'authentication_error');
    const bearer = await harness.request('/v1/agents', {
      apiKey: null,
      headers: { authorization: `Bearer ${harness.tenant.apiKey}` },
    });
    expect(bearer.status).toBe(200);
  });

  it('answers 404 for unknown ids and unknown routes', async () => {
    await expectError(await harness.request('/v1/agents/agent_unknown'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/environments/env_unknown'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/sessions/sesn_unknown'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/sessions/sesn_unknown/events'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/sessions/sesn_unknown/events/stream'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/vaults/vlt_unknown/credentials'), 404, 'not_found_error');
    await expectError(await harness.request('/v1/nothing-here'), 404, 'not_found_error');
    const before = await counts();
    await expectError(
      await harness.request('/v1/sessions', {
        method: 'POST',
        body: JSON.stringify({ agent: 'agent_unknown', environment_id: 'env_unknown' }),
      }),
      404,
      'not_found_error',
    );
    expect(await counts()).toEqual(before);
  });

  it("hides another tenant's resources behind 404", async () => {
    const other = await createTenantWithKey(harness.platform.pool, 'other tenant');
    const asOther = (path: string, init: RequestInit = {}) => harness.request(path, { ...init, apiKey: other.apiKey });
    const agent = (await (await asOther('/v1/agents', { method: 'POST', body: agentBody('m-other') })).json()) as {
      id: string;
    };
    const environment = (await (
      await asOther('/v1/environments', {
        method: 'POST',
        body: JSON.stringify({ name: `other-${harness.platform.prefix}` }),
      })
    ).json()) as { id: string };
    const vault = (await (
      await asOther('/v1/vaults', { method: 'POST', body: JSON.stringify({ display_name: 'v' }) })
    ).json()) as {
      id: string;
    };
    const session = (await (
      await asOther('/v1/sessions', {
        method: 'POST',
        body: JSON.stringify({ agent: agent.id, environment_id: environment.id }),
      })
    ).json()) as { id: string };
    expect(session.id).toMatch(/^sesn_/);

    await expectError(await harness.request(`/v1/agents/${agent.id}`), 404, 'not_found_error');
    await expectError(await harness.request(`/v1/environments/${environment.id}`), 404, 'not_found_error');
    await expectError(await harness.request(`/v1/vaults/${vault.id}`), 404, 'not_found_error');
    await expectError(await harness.request(`/v1/sessions/${session.id}`), 404, 'not_found_error');
    await expectError(await harness.request(`/v1/sessions/${session.id}/events`), 404, 'not_found_error');
    await expectError(
      await harness.request(`/v1/sessions/${session.id}`, { method: 'DELETE' }),
      404,
      'not_found_error',
    );
    const message = JSON.stringify({ events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }] });
    await expectError(
      await harness.request(`/v1/sessions/${session.id}/events`, { method: 'POST', body: message }),
      404,
      'not_found_error',
    );
    const before = await counts();
    await expectError(
      await harness.request('/v1/sessions', {
        method: 'POST',
        body: JSON.stringify({ agent: agent.id, environment_id: environment.id }),
      }),
      404,
      'not_found_error',
    );
    expect(await counts()).toEqual(before);
    const list = (await (await harness.request('/v1/sessions')).json()) as { data: { id: string }[] };
    expect(list.data.map((item) => item.id)).not.toContain(session.id);
    const agents = (await (await harness.request('/v1/agents')).json()) as { data: { id: string }[] };
    expect(agents.data.map((item) => item.id)).not.toContain(agent.id);
  });

  it('rejects a confirmation or a custom tool result nobody asked for, before anything reaches history', async () => {
    const agent = (await (
      await harness.request('/v1/agents', { method: 'POST', body: agentBody('m-confirm') })
    ).json()) as { id: string };
    const environment = (await (
      await harness.request('/v1/environments', {
        method: 'POST',
        body: JSON.stringify({ name: `confirm-${harness.platform.prefix}` }),
      })
    ).json()) as { id: string };
    const session = (await (
      await harness.request('/v1/sessions', {
        method: 'POST',
        body: JSON.stringify({ agent: agent.id, environment_id: environment.id }),
      })
    ).json()) as { id: string };
    const send = (events: unknown[]) =>
      harness.request(`/v1/sessions/${session.id}/events`, { method: 'POST', body: JSON.stringify({ events }) });

    await expectError(
      await send([{ type: 'user.tool_confirmation', tool_use_id: 'sevt_nobody', result: 'allow' }]),
      400,
      'invalid_request_error',
    );
    await expectError(
      await send([
        { type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_nobody', content: [{ type: 'text', text: 'x' }] },
      ]),
      400,
      'invalid_request_error',
    );
    await expectError(await send([{ type: 'user.bogus' }]), 400, 'invalid_request_error');
    await expectError(await send([]), 400, 'invalid_request_error');
    await expectError(await send([{ type: 'user.message', content: 'not blocks' }]), 400, 'invalid_request_error');

    const history = await harness.platform.client.workflow.getHandle(sessionWorkflowId(session.id)).fetchHistory();
    const delivered = (history.events ?? []).filter(
      (event) => event.workflowExecutionSignaledEventAttributes || event.workflowExecutionUpdateAcceptedEventAttributes,
    );
    expect(delivered).toHaveLength(0);
    expect(await readEvents(harness.platform.pool, session.id)).toHaveLength(0);
  });

  it('serves health and the OpenAPI document without a key', async () => {
    expect(await (await harness.request('/health', { apiKey: null })).json()).toEqual({
      ok: true,
      temporal: true,
      postgres: true,
    });
    const document = (await (await harness.request('/openapi.json', { apiKey: null })).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/agents',
        '/v1/sessions',
        '/v1/sessions/{session_id}/events',
        '/v1/vaults/{vault_id}/credentials',
      ]),
    );
  });
});

describe('backing services out of reach', () => {
  it('answers 503 with retry-after when Temporal is unreachable, and writes nothing', async () => {
    const config = loadConfig({ DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' });
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 1_000 });
    const api = await createApi({
      config,
      pool: harness.platform.pool,
      temporalClient: new Client({ connection }),
      temporalTimeoutMs: 1_000,
    });
    try {
      const headers = { 'x-api-key': harness.tenant.apiKey, 'content-type': 'application/json' };
      const agent = (
        await api.inject({ method: 'POST', url: '/v1/agents', headers, payload: agentBody('m-down') })
      ).json<{ id: string }>();
      const environment = (
        await api.inject({
          method: 'POST',
          url: '/v1/environments',
          headers,
          payload: JSON.stringify({ name: `down-${harness.platform.prefix}` }),
        })
      ).json<{ id: string }>();
      const before = await counts();
      const response = await api.inject({
        method: 'POST',
        url: '/v1/sessions',
        headers,
        payload: JSON.stringify({ agent: agent.id, environment_id: environment.id }),
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
      expect(await counts()).toEqual(before);
      // A deployment's pause whose schedule call fails changes nothing either: the row stays active (its schedule
      // would otherwise be running under a row that says paused).
      const deployment = (await (
        await fetch(`${harness.baseURL}/v1/deployments`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            agent: agent.id,
            environment_id: environment.id,
            name: 'hourly while Temporal is down',
            initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'Report.' }] }],
            schedule: { type: 'cron', expression: '0 * * * *', timezone: 'UTC' },
          }),
        })
      ).json()) as { id: string };
      const pause = await api.inject({ method: 'POST', url: `/v1/deployments/${deployment.id}/pause`, headers });
      expect(pause.statusCode).toBe(503);
      const after = await fetch(`${harness.baseURL}/v1/deployments/${deployment.id}`, { headers });
      expect(await after.json()).toMatchObject({ id: deployment.id, status: 'active', paused_reason: null });
      await fetch(`${harness.baseURL}/v1/deployments/${deployment.id}/archive`, { method: 'POST', headers });
      const health = await api.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toEqual({ ok: false, temporal: false, postgres: true });
    } finally {
      await api.close();
    }
  });

  it('answers 503 with retry-after when PostgreSQL is unreachable', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const pool = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 1_000,
    });
    const api = await createApi({ config, pool, temporalClient: harness.platform.client });
    try {
      const response = await api.inject({
        method: 'GET',
        url: '/v1/agents',
        headers: { 'x-api-key': harness.tenant.apiKey },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    } finally {
      await api.close();
      await pool.end();
    }
  });
});
