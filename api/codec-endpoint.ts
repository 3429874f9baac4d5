// The codec server Temporal UI and the temporal CLI use to show (and send) the platform's encrypted payloads. Who may
// read what: the operator's AGENTS_CODEC_TOKEN (as a Bearer token) or an admin API key reads every payload; a tenant's
// API key (x-api-key or Bearer) only payloads under its own tenant's data keys (another tenant's, or a platform-key
// payload: 403). Without any credential it answers loopback callers only, and only while no token is configured
// (development); a presented credential that is not valid is 401 wherever it comes from.
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CodecAccess } from '../codec/codec-access.ts';
import { createPlatformCodecServerCodec } from '../codec/data-converter.ts';
import { startCodecServer, type RunningCodecServer } from '../codec/codec-server.ts';
import { authenticateApiKey } from '../db/repositories/api-keys.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { presentedKey } from './auth.ts';
import { operatorAuthorizer } from './operator-auth.ts';

/** What a codec-server request may read (undefined: 401). Without a pool, API keys are not consulted. */
export function codecAuthorizer(
  token: string | undefined,
  pool?: pg.Pool,
): (request: IncomingMessage) => Promise<CodecAccess | undefined> {
  const operator = operatorAuthorizer(token);
  return async (request) => {
    const key = presentedKey(request);
    if (key === undefined) return operator(request) ? { kind: 'all' } : undefined;
    if (token && operator(request)) return { kind: 'all' };
    const caller = pool && key.length <= 256 ? await authenticateApiKey(pool, key) : undefined;
    if (!caller) return undefined;
    if (caller.scope === 'admin' || caller.tenantId === null) return { kind: 'all' };
    return { kind: 'tenant', tenantId: caller.tenantId };
  };
}

export async function startPlatformCodecServer(
  config: PlatformConfig,
  pool: pg.Pool,
  logger: Logger,
): Promise<RunningCodecServer | undefined> {
  if (config.AGENTS_CODEC_PORT === 0) return undefined;
  const uiOrigin = new URL(config.TEMPORAL_UI_URL).origin;
  const server = await startCodecServer({
    port: config.AGENTS_CODEC_PORT,
    host: config.API_HOST,
    codec: createPlatformCodecServerCodec(config, pool),
    allowedOrigins: [uiOrigin, uiOrigin.replace('127.0.0.1', 'localhost')],
    authorize: codecAuthorizer(config.AGENTS_CODEC_TOKEN, pool),
  });
  logger.info({ url: server.url }, 'codec server for Temporal UI and CLI listening');
  return server;
}
