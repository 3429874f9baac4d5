// The fake model server: the far end of the model wire for tests and the no-key demo. It speaks Anthropic Messages,
// OpenAI Chat Completions and OpenAI Responses well enough for the official SDKs, plays scripted turns (text, thinking,
// tool calls, faults), records every request, and has a small control API both in-process and over HTTP.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicProtocol } from './anthropic-protocol.ts';
import { demoTurn } from './demo.ts';
import { FakeHolds } from './holds.ts';
import { openAiChatProtocol } from './openai-chat-protocol.ts';
import { openAiResponsesProtocol } from './openai-responses-protocol.ts';
import { isRecord, type FakeProtocol } from './protocol.ts';
import {
  FakeScripts,
  fakeId,
  resolveTurn,
  withoutCredentials,
  type FakeFault,
  type FakeResponder,
  type FakeTurn,
  type RecordedRequest,
} from './script.ts';
import { playFrames, sseHeaders } from './sse.ts';

export interface FakeModelServer {
  /** Base URL without a trailing slash: the Anthropic SDK's baseURL; OpenAI SDKs take `${url}/v1`. */
  url: string;
  port: number;
  close(): Promise<void>;
  setScript(model: string, turns: FakeTurn[]): void;
  /** Answers `model`'s requests by their content first (in-process only); the script answers when it returns nothing. */
  setResponder(model: string, responder: FakeResponder): void;
  requests(model: string): RecordedRequest[];
  /** The faults served to `model`'s requests so far, in order (what a fault-injection test compares its log with). */
  faults(model: string): FakeFault[];
  /** Releases the streams held under `key`; returns whether any was held (an early release is remembered). */
  release(key: string): boolean;
  /** Keys with a stream currently held open. */
  held(): string[];
  /** Resolves as soon as a stream is held under `key` (in-process only). */
  whenHeld(key: string): Promise<void>;
}

const protocols = [anthropicProtocol, openAiChatProtocol, openAiResponsesProtocol];
const protocolByPath = new Map<string, FakeProtocol>(
  protocols.flatMap((protocol) => protocol.paths.map((path) => [path, protocol] as const)),
);

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function startFakeModelServer(options: { port?: number; host?: string } = {}): Promise<FakeModelServer> {
  const scripts = new FakeScripts();
  const holds = new FakeHolds();

  async function answerModelCall(
    protocol: FakeProtocol,
    request: IncomingMessage,
    response: ServerResponse,
    body: Record<string, unknown>,
    path: string,
  ): Promise<void> {
    const model = body.model;
    if (typeof model !== 'string' || model === '') {
      sendJson(response, 400, protocol.errorBody(400, 'fake model: the request has no `model`'));
      return;
    }
    scripts.record(model, { protocol: protocol.name, path, body, headers: withoutCredentials(request.headers) });
    const next = scripts.next(model, body);
    if (next.kind === 'exhausted') {
      sendJson(response, 400, protocol.errorBody(400, `fake model: script for ${model} exhausted`));
      return;
    }
    const scripted = next.kind === 'scripted' ? next.turn : demoTurn(protocol.demoInput(body));
    const turn = resolveTurn(scripted, body, protocol.toolIdPrefix);
    const requestId = { [protocol.requestIdHeader]: fakeId('req_') };
    const fault = turn.fault;
    if (fault) scripts.recordFault(model, fault);

    if (fault?.type === 'reset_before_response') {
      request.socket.destroy();
      return;
    }

    if (fault?.type === 'http') {
      const headers: Record<string, string> = { ...requestId };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      const message = fault.message ?? `fake model: scripted HTTP ${fault.status}`;
      sendJson(response, fault.status, protocol.errorBody(fault.status, message), headers);
      return;
    }

    // Client disconnects end holds and delays at once.
    const disconnected = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) disconnected.abort();
    });

    if (body.stream !== true) {
      if (fault?.type === 'reset_mid_stream' || fault?.type === 'end_mid_stream') {
        response.writeHead(200, { 'content-type': 'application/json', ...requestId });
        if (fault.type === 'end_mid_stream') response.end('{"id":"partial",');
        else response.write('{"id":"partial",', () => response.socket?.destroy());
      } else if (fault?.type === 'stream_error') {
        const message = fault.message ?? `fake model: scripted error ${fault.status}`;
        sendJson(response, fault.status, protocol.errorBody(fault.status, message), requestId);
      } else if (fault?.type === 'malformed_chunk') {
        response.writeHead(200, { 'content-type': 'application/json', ...requestId });
        response.end('{"id": this is not json');
      } else {
        sendJson(response, 200, protocol.responseJson(turn, model), requestId);
      }
      return;
    }

    response.writeHead(200, { ...sseHeaders, ...requestId });
    response.flushHeaders();
    const frames = protocol.streamFrames(turn, model, body);
    await playFrames(response, frames, {
      turn,
      malformedFrame: protocol.malformedFrame,
      streamErrorFrame: (status, message) => protocol.streamErrorFrame(status, message),
      holds,
      signal: disconnected.signal,
    });
  }

  async function answerControl(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    response: ServerResponse,
  ): Promise<void> {
    if (method === 'GET' && path === '/_fake/health') return sendJson(response, 200, { ok: true });
    if (method === 'POST' && path === '/_fake/scripts') {
      if (typeof body.model !== 'string' || !Array.isArray(body.turns)) {
        return sendJson(response, 400, { error: 'expected {"model": string, "turns": FakeTurn[]}' });
      }
      scripts.setScript(body.model, body.turns as FakeTurn[]);
      return sendJson(response, 200, { model: body.model, turns: body.turns.length });
    }
    if (method === 'GET' && path === '/_fake/requests') {
      const model = query.get('model');
      if (!model) return sendJson(response, 400, { error: 'expected ?model=' });
      return sendJson(response, 200, { model, requests: scripts.requests(model) });
    }
    if (method === 'GET' && path === '/_fake/faults') {
      const model = query.get('model');
      if (!model) return sendJson(response, 400, { error: 'expected ?model=' });
      return sendJson(response, 200, { model, faults: scripts.faults(model) });
    }
    if (method === 'GET' && path === '/_fake/holds') return sendJson(response, 200, { held: holds.held() });
    if (method === 'POST' && path.startsWith('/_fake/release/')) {
      const key = decodeURIComponent(path.slice('/_fake/release/'.length));
      return sendJson(response, 200, { key, released: holds.release(key) });
    }
    sendJson(response, 404, { error: `fake model: no control route ${method} ${path}` });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake-model');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const body = parseJsonObject(await readBody(request));
    if (!body)
      return sendJson(response, 400, { error: { message: 'fake model: the request body is not a JSON object' } });
    if (path.startsWith('/_fake/'))
      return answerControl(request.method ?? 'GET', path, url.searchParams, body, response);
    const protocol = protocolByPath.get(path);
    if (!protocol || request.method !== 'POST') {
      return sendJson(response, 404, { error: { message: `fake model: no route ${request.method} ${path}` } });
    }
    return answerModelCall(protocol, request, response, body, path);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: { message: `fake model: ${String(error)}` } });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    setScript: (model, turns) => scripts.setScript(model, turns),
    setResponder: (model, responder) => scripts.setResponder(model, responder),
    requests: (model) => scripts.requests(model),
    faults: (model) => scripts.faults(model),
    release: (key) => holds.release(key),
    held: () => holds.held(),
    whenHeld: (key) => holds.whenHeld(key),
  };
}
