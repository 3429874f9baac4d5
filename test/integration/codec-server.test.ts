// The codec server as Temporal UI and the CLI call it: proto3-JSON payloads (base64 bytes) over POST /decode and
// /encode, with CORS for the UI's origin.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCodecServer, type RunningCodecServer } from '../../codec/codec-server.ts';
import { chainCodecs, createCodecServerCodec, createDataConverter } from '../../codec/data-converter.ts';

const uiOrigin = 'http://localhost:8233';
const marker = `codec-server-marker-${randomBytes(6).toString('hex')}`;

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

function fromBase64(text: string | undefined): string {
  return Buffer.from(text ?? '', 'base64').toString('utf8');
}

describe('codec server', () => {
  let pool: pg.Pool;
  let server: RunningCodecServer;
  const keys = { k1: randomBytes(32) };
  let workerCodec: ReturnType<typeof chainCodecs>;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
    const config = { pool, keys, currentKeyId: 'k1', largePayloads: 'claim-check' as const };
    workerCodec = chainCodecs(createDataConverter(config).payloadCodecs ?? []);
    server = await startCodecServer({ port: 0, codec: createCodecServerCodec(config), allowedOrigins: [uiOrigin] });
  });

  afterAll(async () => {
    await server?.close();
    await pool?.end();
  });

  async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });
  }

  it('decodes encrypted and claim-checked payloads into the plaintext JSON payloads', async () => {
    // Incompressible (random) so that it stays above the claim-check threshold after the compression codec.
    const values = [{ text: marker }, `${marker} ${randomBytes(60_000).toString('base64')}`];
    const encoded = await workerCodec.encode(values.map((value) => defaultPayloadConverter.toPayload(value)));
    expect(fromBase64(toJson(encoded[1]!).metadata.encoding)).toBe('claim-check/v1');

    const response = await post('/decode', { payloads: encoded.map(toJson) }, { Origin: uiOrigin });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const { payloads } = (await response.json()) as { payloads: JsonPayload[] };
    expect(payloads.map((payload) => fromBase64(payload.metadata.encoding))).toEqual(['json/plain', 'json/plain']);
    expect(payloads.map((payload) => JSON.parse(fromBase64(payload.data)) as unknown)).toEqual(values);
  });

  it('encodes for the UI and serves the namespace-prefixed path the CLI templates', async () => {
    const plain = toJson(defaultPayloadConverter.toPayload({ typedInUi: marker }));
    const encodeResponse = await post('/encode', { payloads: [plain] });
    expect(encodeResponse.status).toBe(200);
    const encoded = ((await encodeResponse.json()) as { payloads: JsonPayload[] }).payloads;
    expect(fromBase64(encoded[0]!.metadata.encoding)).toBe('binary/encrypted');
    expect(fromBase64(encoded[0]!.data).includes(marker)).toBe(false);

    const decodeResponse = await post('/default/decode', { payloads: encoded });
    const decoded = ((await decodeResponse.json()) as { payloads: JsonPayload[] }).payloads;
    expect(decoded).toEqual([plain]);
  });

  it('answers the CORS preflight for the UI origin and refuses other origins', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: uiOrigin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');

    const foreign = await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
  });

  it('rejects malformed requests with clear statuses', async () => {
    expect((await post('/decode', { payloads: 'nope' })).status).toBe(400);
    expect((await post('/decode', {})).status).toBe(200); // proto3 JSON omits an empty list
    expect((await post('/elsewhere', { payloads: [] })).status).toBe(404);
    expect((await fetch(`${server.url}/decode`)).status).toBe(405);
    const unknownKey = {
      metadata: {
        encoding: Buffer.from('binary/encrypted').toString('base64'),
        'encryption-key-id': Buffer.from('gone').toString('base64'),
      },
      data: '',
    };
    const failed = await post('/decode', { payloads: [unknownKey] });
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: string }).error).toMatch(/unknown key id "gone"/);
  });
});
