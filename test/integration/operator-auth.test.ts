// The operator endpoints outside loopback: with AGENTS_METRICS_TOKEN set, the API's /metrics answers only a caller
// that sends it (an API key does not open it), in the one error shape otherwise; the codec server's authorizer is the
// same rule (AGENTS_CODEC_TOKEN). Without a token both answer loopback callers only (metrics.test.ts scrapes so).
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createApiLogger } from '../../api/logger.ts';
import { operatorAuthorizer } from '../../api/operator-auth.ts';
import { createApi } from '../../api/server.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { loadConfig } from '../../domain/config.ts';
import type { IncomingMessage } from 'node:http';

let pool: pg.Pool;
let api: FastifyInstance;
let connection: Connection;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
  connection = Connection.lazy({ address: inject('temporalAddress') });
  const config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    AGENTS_METRICS_TOKEN: 'scrape-secret',
    LOG_LEVEL: 'error',
  });
  api = await createApi({ config, pool, temporalClient: new Client({ connection }), logger: createApiLogger(config) });
});
afterAll(async () => {
  await api?.close();
  await connection?.close();
  await pool?.end();
});

it('serves /metrics only with the metrics token when one is configured', async () => {
  const { apiKey } = await createTenantWithKey(pool, 'operator auth');
  const without = await api.inject({ method: 'GET', url: '/metrics' });
  expect(without.statusCode).toBe(401);
  expect(without.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  expect((await api.inject({ method: 'GET', url: '/metrics', headers: { 'x-api-key': apiKey } })).statusCode).toBe(401);
  const wrong = await api.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } });
  expect(wrong.statusCode).toBe(401);
  const right = await api.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: 'Bearer scrape-secret' },
  });
  expect(right.statusCode).toBe(200);
  expect(right.body).toContain('agents_api_requests_total');
});

it('answers loopback callers only when no token is configured', () => {
  const from = (remoteAddress: string, authorization?: string) =>
    ({ socket: { remoteAddress }, headers: authorization ? { authorization } : {} }) as unknown as IncomingMessage;
  const open = operatorAuthorizer(undefined);
  expect(open(from('127.0.0.1'))).toBe(true);
  expect(open(from('::1'))).toBe(true);
  expect(open(from('10.0.0.7'))).toBe(false);
  const guarded = operatorAuthorizer('t0ken');
  expect(guarded(from('10.0.0.7', 'Bearer t0ken'))).toBe(true);
  expect(guarded(from('127.0.0.1'))).toBe(false);
});
