// Temporal's remote codec ("codec server") protocol, so the Web UI and `temporal --codec-endpoint` can show decrypted
// payloads without the keys ever reaching Temporal: POST …/encode and POST …/decode take and return
// `{"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}` (proto3 JSON, so every bytes field is base64),
// with the namespace in an `X-Namespace` header. The UI calls it from the browser, hence CORS with preflight.
// Mount it behind authentication (see `authorize`): an operator's access decodes every payload, a tenant's only its own
// (a payload it is not entitled to answers 403 and nothing of the batch).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { PayloadAccessDenied, type CodecAccess } from './codec-access.ts';

export interface CodecServerOptions {
  /** With `forAccess`, each request decodes through the codec of its caller's access. */
  codec: PayloadCodec & { forAccess?: (access: CodecAccess) => PayloadCodec };
  /** Browser origins allowed to call (the UI's, e.g. http://localhost:8233); '*' allows any, without credentials. */
  allowedOrigins: readonly string[];
  /**
   * Rejects a request (false or undefined: 401) before any payload is touched, or says what it may read (true: all).
   * The UI can forward cookies or an Authorization header.
   */
  authorize?: (
    request: IncomingMessage,
  ) => boolean | CodecAccess | undefined | Promise<boolean | CodecAccess | undefined>;
  maxBodyBytes?: number;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const routePattern = /(?:^|\/)(encode|decode)$/;
const allowedRequestHeaders = 'Content-Type, X-Namespace, Authorization, X-Api-Key';

/** A plain node:http handler, mountable in another server (it matches any path ending in /encode or /decode). */
export function createCodecServerHandler(
  options: CodecServerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  return (request, response) => {
    handle(request, response, options, maxBodyBytes).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: errorMessage(error) });
      else response.destroy();
    });
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: CodecServerOptions,
  maxBodyBytes: number,
): Promise<void> {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (!originAllowed(origin, options.allowedOrigins)) return sendJson(response, 403, { error: 'origin not allowed' });
    applyCorsHeaders(response, origin, options.allowedOrigins);
  }
  const route = routePattern.exec(new URL(request.url ?? '/', 'http://codec.invalid').pathname)?.[1];
  if (request.method === 'OPTIONS') {
    response.writeHead(204, {
      'Access-Control-Allow-Methods': 'POST, OPTIONS',
      'Access-Control-Allow-Headers': allowedRequestHeaders,
      'Access-Control-Max-Age': '600',
    });
    response.end();
    return;
  }
  if (!route) return sendJson(response, 404, { error: 'not found: use POST /encode or POST /decode' });
  if (request.method !== 'POST')
    return sendJson(response, 405, { error: 'method not allowed' }, { Allow: 'POST, OPTIONS' });
  const granted = options.authorize ? await options.authorize(request) : true;
  if (!granted) return sendJson(response, 401, { error: 'unauthorized' });
  const access: CodecAccess = granted === true ? { kind: 'all' } : granted;
  const codec = options.codec.forAccess?.(access) ?? options.codec;

  const body = await readBody(request, maxBodyBytes);
  if (body === undefined) return sendJson(response, 413, { error: `body larger than ${maxBodyBytes} bytes` });
  let payloads: Payload[];
  try {
    payloads = parsePayloads(body);
  } catch (error) {
    return sendJson(response, 400, { error: errorMessage(error) });
  }
  try {
    const result = route === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    sendJson(response, 200, { payloads: result.map(toJsonPayload) });
  } catch (error) {
    if (error instanceof PayloadAccessDenied) return sendJson(response, 403, { error: error.message });
    throw error;
  }
}

export interface RunningCodecServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Runs the codec server on its own port (0 picks a free one); host defaults to loopback. */
export async function startCodecServer(
  options: CodecServerOptions & { port: number; host?: string },
): Promise<RunningCodecServer> {
  const server = createServer(createCodecServerHandler(options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

function originAllowed(origin: string, allowedOrigins: readonly string[]): boolean {
  return allowedOrigins.includes('*') || allowedOrigins.includes(origin);
}

function applyCorsHeaders(response: ServerResponse, origin: string, allowedOrigins: readonly string[]): void {
  response.setHeader('Vary', 'Origin');
  if (allowedOrigins.includes(origin)) {
    response.setHeader('Access-Control-Allow-Origin', origin);
    // The UI's "include cross-origin credentials" setting sends cookies; browsers then require this and an exact origin.
    response.setHeader('Access-Control-Allow-Credentials', 'true');
  } else {
    response.setHeader('Access-Control-Allow-Origin', '*');
  }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parsePayloads(body: Buffer): Payload[] {
  const parsed = JSON.parse(body.toString('utf8')) as { payloads?: unknown } | null;
  if (typeof parsed !== 'object' || parsed === null) throw new Error('body must be {"payloads": [...]}');
  // Proto3 JSON leaves an empty list out: the CLI sends `{}` for a call without arguments.
  const payloads = parsed.payloads ?? [];
  if (!Array.isArray(payloads)) throw new Error('body must be {"payloads": [...]}');
  return payloads.map((entry: unknown, index): Payload => {
    if (typeof entry !== 'object' || entry === null) throw new Error(`payloads[${index}] must be an object`);
    const { metadata = {}, data = '' } = entry as JsonPayload;
    if (typeof data !== 'string' || typeof metadata !== 'object' || metadata === null) {
      throw new Error(`payloads[${index}] must have base64 "data" and a "metadata" object of base64 strings`);
    }
    return {
      metadata: Object.fromEntries(
        Object.entries(metadata).map(([key, value]) => {
          if (typeof value !== 'string') throw new Error(`payloads[${index}].metadata.${key} must be a base64 string`);
          return [key, Buffer.from(value, 'base64')];
        }),
      ),
      data: Buffer.from(data, 'base64'),
    };
  });
}

function toJsonPayload(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
