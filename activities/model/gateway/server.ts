// The model gateway: an Anthropic Messages endpoint and an OpenAI Responses endpoint for harnesses that run inside
// sandboxes (the Claude Agent SDK's Claude Code; Codex). They call it with a session-scoped token as their API key; the gateway checks the token and the
// session's limits (admission.ts), swaps the token for the operator's provider key (the model worker's endpoints,
// resolved as every model call resolves them: endpoint.ts), forwards the request byte for byte, streams the answer
// back as it comes, and writes the response's usage to the ledger (usage-metering.ts). The provider key lives only in
// this process: a sandbox sees its token, never the key.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { UrlGuard } from '../../../net/url-guard.ts';
import { resolveModelEndpoint, type ModelEndpoints } from '../endpoint.ts';
import { openAiDefaultBaseUrl } from '../openai-chat.ts';
import type { ProviderLimiter } from '../provider-limits.ts';
import { defaultMetering, meterUsage, type MeteringOptions } from '../usage-metering.ts';
import { admit, type GatewayRefusal } from './admission.ts';
import { SessionRateLimit } from './session-rate.ts';
import { UsageTap } from './usage-tap.ts';

export interface ModelGatewayOptions {
  pool: pg.Pool;
  endpoints: ModelEndpoints;
  guard: UrlGuard;
  metering?: MeteringOptions;
  limiter?: ProviderLimiter;
  /** Model requests per session per minute (0: unlimited). */
  requestsPerMinute?: number;
  host?: string;
  port?: number;
  /** Largest request body accepted (bytes). */
  bodyLimitBytes?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface ModelGateway {
  /** Where this process listens, e.g. `http://127.0.0.1:4100` (sandboxes may know it by another address). */
  url: string;
  port: number;
  close(): Promise<void>;
}

type WireProtocol = 'anthropic' | 'openai-responses';

/** Paths forwarded upstream: which protocol (so which provider's endpoint and key), and whether the answer is metered. */
const forwarded = new Map<string, { protocol: WireProtocol; metered: boolean }>([
  ['/v1/messages', { protocol: 'anthropic', metered: true }],
  ['/v1/messages/count_tokens', { protocol: 'anthropic', metered: false }],
  ['/v1/responses', { protocol: 'openai-responses', metered: true }],
]);
/** Request headers passed on per protocol; everything else (the token above all) stays here. */
const passedHeaders: Record<WireProtocol, string[]> = {
  anthropic: ['anthropic-version', 'anthropic-beta', 'content-type', 'accept'],
  'openai-responses': ['openai-beta', 'content-type', 'accept'],
};

/** The upstream URL: Anthropic's base is the host (paths keep /v1), OpenAI's base already ends in /v1. */
function upstreamUrl(protocol: WireProtocol, baseUrl: string | undefined, path: string, search: string): string {
  if (protocol === 'anthropic')
    return `${(baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '')}${path}${search}`;
  return `${(baseUrl ?? openAiDefaultBaseUrl).replace(/\/+$/, '')}${path.replace(/^\/v1/, '')}${search}`;
}
/** Response headers not copied back (fetch has already decoded the body). */
const droppedResponseHeaders = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection']);

/** A refusal in the caller's protocol's error shape, so its client handles it as it would the provider's. */
function sendError(response: ServerResponse, refusal: GatewayRefusal, protocol: WireProtocol = 'anthropic'): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (refusal.retryAfterSeconds !== undefined) headers['retry-after'] = String(refusal.retryAfterSeconds);
  response.writeHead(refusal.status, headers);
  const error = { type: refusal.type, message: refusal.message };
  response.end(
    JSON.stringify(
      protocol === 'anthropic' ? { type: 'error', error } : { error: { ...error, code: refusal.type, param: null } },
    ),
  );
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function modelOf(body: Buffer): unknown {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as { model?: unknown }).model : undefined;
  } catch {
    return undefined;
  }
}

export async function startModelGateway(options: ModelGatewayOptions): Promise<ModelGateway> {
  const metering = options.metering ?? defaultMetering;
  const rate = new SessionRateLimit(options.requestsPerMinute ?? 0);
  const bodyLimit = options.bodyLimitBytes ?? 32 * 1024 * 1024;

  async function forward(request: IncomingMessage, response: ServerResponse, path: string, search: string) {
    const { protocol, metered } = forwarded.get(path)!;
    const body = await readBody(request, bodyLimit);
    if (!body) {
      return sendError(response, { status: 413, type: 'request_too_large', message: 'request too large' }, protocol);
    }
    const model = modelOf(body);
    const admission = await admit({ pool: options.pool, metering, rate }, request.headers, model);
    if (admission.kind === 'refused') return sendError(response, admission.refusal, protocol);
    const { grant } = admission;
    const endpoint = await resolveModelEndpoint({
      endpoints: options.endpoints,
      model: { provider: protocol, id: grant.model },
      guard: options.guard,
      tenantCredentials: async () => [],
    });
    const headers: Record<string, string> =
      protocol === 'anthropic' ? { 'x-api-key': endpoint.apiKey } : { authorization: `Bearer ${endpoint.apiKey}` };
    for (const name of passedHeaders[protocol]) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const aborted = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) aborted.abort();
    });
    const release = await options.limiter?.acquire(protocol, aborted.signal);
    try {
      const upstream = await (endpoint.fetch ?? fetch)(upstreamUrl(protocol, endpoint.baseUrl, path, search), {
        method: 'POST',
        headers,
        body,
        signal: aborted.signal,
      });
      const outgoing: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!droppedResponseHeaders.has(name)) outgoing[name] = value;
      });
      response.writeHead(upstream.status, outgoing);
      const tap = new UsageTap(upstream.headers.get('content-type'), protocol);
      try {
        if (upstream.body) {
          for await (const chunk of upstream.body as AsyncIterable<Uint8Array>) {
            tap.push(chunk);
            response.write(chunk);
          }
        }
        response.end();
      } finally {
        // A stream the client cut short (an interrupt) is metered with what it reported so far, as the model
        // activity meters an interrupted call: the request was made and its input tokens were spent.
        const usage = tap.finish();
        if (usage && metered && upstream.ok) {
          const entry = { tenantId: grant.tenantId, sessionId: grant.sessionId, model: { id: grant.model } };
          await meterUsage(options.pool, metering, { ...entry, entryKey: `gateway:${randomUUID()}` }, usage);
        }
      }
    } finally {
      release?.();
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://gateway');
    const path = url.pathname.replace(/\/+$/, '');
    // Claude Code's reachability probe at start: nothing behind it.
    if (path === '/api/hello' && (request.method === 'HEAD' || request.method === 'GET')) {
      response.writeHead(200).end();
      return;
    }
    if (request.method !== 'POST' || !forwarded.has(path)) {
      request.resume();
      return sendError(response, {
        status: 404,
        type: 'not_found_error',
        message: `no route ${request.method} ${path}`,
      });
    }
    await forward(request, response, path, url.search);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!(error instanceof Error && error.name === 'AbortError')) {
        options.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'model gateway failed');
      }
      if (!response.headersSent) {
        sendError(response, { status: 502, type: 'api_error', message: 'the model gateway could not reach the model' });
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address === '0.0.0.0' ? '127.0.0.1' : address.address}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
