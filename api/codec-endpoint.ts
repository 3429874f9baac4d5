// The codec server Temporal UI and the temporal CLI use to show (and send) the platform's encrypted payloads. It is
// operator-level access to every conversation, so it requires AGENTS_CODEC_TOKEN as a Bearer token; without a token
// configured it answers loopback callers only (development).
import type { IncomingMessage } from 'node:http';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createPlatformCodecServerCodec } from '../codec/data-converter.ts';
import { startCodecServer, type RunningCodecServer } from '../codec/codec-server.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { operatorAuthorizer } from './operator-auth.ts';

export const codecAuthorizer: (token: string | undefined) => (request: IncomingMessage) => boolean = operatorAuthorizer;

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
    authorize: codecAuthorizer(config.AGENTS_CODEC_TOKEN),
  });
  logger.info({ url: server.url }, 'codec server for Temporal UI and CLI listening');
  return server;
}
