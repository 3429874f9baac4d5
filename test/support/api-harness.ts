// Runs the HTTP API in-process (port 0) on top of the test platform's workers, with a tenant and its key.
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { createApiLogger } from '../../api/logger.ts';
import { createApi } from '../../api/server.ts';
import { createTenantWithKey, type CreatedTenant } from '../../db/repositories/tenants.ts';
import { loadConfig } from '../../domain/config.ts';
import type { SessionSettings } from '../../domain/session.ts';
import { startTestPlatform, type PlatformOptions, type TestPlatform } from './platform.ts';

export interface ApiHarness {
  platform: TestPlatform;
  api: FastifyInstance;
  baseURL: string;
  tenant: CreatedTenant;
  /** Every log line the API wrote. */
  logLines: string[];
  request(path: string, init?: RequestInit & { apiKey?: string | null }): Promise<Response>;
  stop(): Promise<void>;
}

export interface ApiOptions {
  heartbeatMs?: number;
  bodyLimitBytes?: number;
  /** Merged over the harness defaults (short model retries). */
  sessionSettings?: Partial<SessionSettings>;
  /** Another Temporal client (e.g. one whose server is unreachable); default the platform's. */
  temporalClient?: Client;
  /** More configuration for the API process (e.g. AGENTS_PRIVATE_NETWORK_ALLOWLIST). */
  config?: Record<string, string>;
}

/** The platform and an API on it; stop() ends both. */
export async function startApiHarness(
  label: string,
  options: ApiOptions & Omit<PlatformOptions, 'label'> = {},
): Promise<ApiHarness> {
  const platform = await startTestPlatform({
    ...options,
    label,
    workers: options.workers ?? ['session', 'model', 'backend'],
  });
  const harness = await startApiOn(platform, label, options);
  return {
    ...harness,
    async stop() {
      await harness.stop();
      await platform.stop();
    },
  };
}

/** An API in-process on an existing platform, with a tenant of its own; stop() closes the API only. */
export async function startApiOn(platform: TestPlatform, label: string, options: ApiOptions = {}): Promise<ApiHarness> {
  const config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    AGENTS_TASK_QUEUE_PREFIX: platform.prefix,
    API_BODY_LIMIT_BYTES: String(options.bodyLimitBytes ?? 1024 * 1024),
    LOG_LEVEL: 'info',
    ...platform.env,
    ...options.config,
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const api = await createApi({
    config,
    pool: platform.pool,
    temporalClient: options.temporalClient ?? platform.client,
    logger: createApiLogger(config, sink),
    sessionSettings: {
      modelRetryInitialMs: 100,
      modelRetryMaxMs: 1_000,
      modelHeartbeatTimeoutMs: 5_000,
      ...options.sessionSettings,
    },
    heartbeatMs: options.heartbeatMs,
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const address = api.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseURL = `http://127.0.0.1:${port}`;
  const tenant = await createTenantWithKey(platform.pool, `tenant ${label}`);
  return {
    platform,
    api,
    baseURL,
    tenant,
    logLines,
    request(path, init = {}) {
      const { apiKey, ...rest } = init;
      const headers = new Headers(rest.headers);
      const key = apiKey === undefined ? tenant.apiKey : apiKey;
      if (key) headers.set('x-api-key', key);
      if (rest.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(`${baseURL}${path}`, { ...rest, headers });
    },
    stop: () => api.close(),
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
