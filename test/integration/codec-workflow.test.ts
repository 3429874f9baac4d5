// End to end through a real worker and the dev server: a 100 KB body travels signal → workflow → activity → result with
// the shared data converter, and the raw history (read without the codec) holds neither the plaintext nor any large
// payload, while payload_blobs holds only ciphertext.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { temporal } = proto;
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimCheckEncoding } from '../../codec/claim-check-codec.ts';
import { createDataConverter } from '../../codec/data-converter.ts';
import { encryptedEncoding } from '../../codec/encryption-codec.ts';
import { codecBodySignal, type CodecEchoActivities } from '../fixtures/codec-workflow.ts';

const PayloadProto = temporal.api.common.v1.Payload;
const HistoryResponseProto = temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
const namespace = 'default';
const marker = `codec-e2e-marker-${randomBytes(8).toString('hex')}`;
// Random (incompressible) so that it stays large after the compression codec and must leave history by reference.
const largeBody = `${marker} ${randomBytes(75_000).toString('base64')} ${marker}`;
const maxPayloadBytes = 256 * 1024;
const referenceMessageType = 'temporal.api.sdk.v1.ExternalStorageReference';
// SDK external storage only works when @temporalio/common and @temporalio/proto load one protobufjs (see data-converter.ts).
const sdkSharesProtobuf = protobufjsPathFrom('@temporalio/common') === protobufjsPathFrom('@temporalio/proto');

const activities: CodecEchoActivities = {
  async echoText(text) {
    return text;
  },
  async failWith(message) {
    throw ApplicationFailure.nonRetryable(message, 'CodecTestFailure');
  },
};

describe.each([
  { largePayloads: 'claim-check' as const, supported: true },
  { largePayloads: 'external-storage' as const, supported: sdkSharesProtobuf },
])('payload protection end to end ($largePayloads)', ({ largePayloads, supported }) => {
  let pool: pg.Pool;
  let nativeConnection: NativeConnection;
  let connection: Connection;
  let client: Client;
  let worker: Worker;
  let workerRun: Promise<void>;
  const taskQueue = `codec-${randomUUID()}`;

  beforeAll(async () => {
    if (!supported) return;
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
    const dataConverter = createDataConverter({
      pool,
      keys: { 'key-2024': randomBytes(32), 'key-2025': randomBytes(32) },
      currentKeyId: 'key-2025',
      largePayloads,
    });
    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection, namespace, dataConverter });
    worker = await Worker.create({
      connection: nativeConnection,
      namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../fixtures/codec-workflow.ts', import.meta.url)),
      activities,
      dataConverter,
    });
    workerRun = worker.run();
  });

  afterAll(async () => {
    if (!supported) return;
    worker.shutdown();
    await workerRun;
    await nativeConnection?.close();
    await connection?.close();
    await pool?.end();
  });

  async function rawHistory(workflowId: string, runId: string): Promise<Uint8Array> {
    // The plain gRPC service: no data converter, so this is exactly what Temporal stores.
    const response = await connection.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId, runId },
    });
    expect(response.nextPageToken?.length ?? 0).toBe(0);
    return HistoryResponseProto.encode(response).finish();
  }

  it.skipIf(!supported)('round-trips a 100 KB body while history holds only small, encrypted payloads', async () => {
    const handle = await client.workflow.start('codecEchoWorkflow', {
      taskQueue,
      workflowId: `codec-echo-${randomUUID()}`,
    });
    await handle.signal(codecBodySignal, largeBody);
    expect(await handle.result()).toBe(largeBody);

    const raw = await rawHistory(handle.workflowId, handle.firstExecutionRunId);
    expect(Buffer.from(raw).includes(marker)).toBe(false);
    // Four copies of the body crossed history (signal, activity input, activity result, workflow result); every one is
    // a reference now, so the whole history stays far below even one body.
    expect(raw.byteLength).toBeLessThan(largeBody.length / 2);

    const payloads = collectPayloads(HistoryResponseProto.decode(raw));
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) {
      expect(PayloadProto.encode(payload).finish().byteLength).toBeLessThanOrEqual(maxPayloadBytes);
      const encoding = metadataText(payload, 'encoding');
      const isReference =
        encoding === claimCheckEncoding || metadataText(payload, 'messageType') === referenceMessageType;
      expect(encoding === encryptedEncoding || isReference, `payload with encoding ${encoding}`).toBe(true);
    }

    const blobIds = payloads.flatMap(blobIdReferencedBy);
    expect(blobIds.length).toBeGreaterThanOrEqual(4);

    const blobs = await pool.query<{ id: string; data: Buffer }>('select id, data from payload_blobs');
    const storedIds = new Set(blobs.rows.map((row) => row.id));
    for (const id of blobIds) expect(storedIds.has(id)).toBe(true);
    for (const row of blobs.rows) {
      expect(row.data.includes(marker)).toBe(false);
      if (blobIds.includes(row.id))
        expect(metadataText(PayloadProto.decode(row.data), 'encoding')).toBe(encryptedEncoding);
    }
  });

  it.skipIf(!supported)(
    'keeps failure messages out of history in plain text while the client still reads them',
    async () => {
      const handle = await client.workflow.start('codecFailingWorkflow', {
        taskQueue,
        workflowId: `codec-fail-${randomUUID()}`,
        args: [`boom ${marker}`],
      });
      const error: unknown = await handle.result().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(failureMessages(error)).toContain(`boom ${marker}`);

      const raw = await rawHistory(handle.workflowId, handle.firstExecutionRunId);
      expect(Buffer.from(raw).includes(marker)).toBe(false);
    },
  );
});

function collectPayloads(value: unknown, found: Payload[] = []): Payload[] {
  if (isPayload(value)) {
    found.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectPayloads(item, found);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const child of Object.values(value)) collectPayloads(child, found);
  }
  return found;
}

// Decoded protobuf messages are plain objects here; a Payload is the one message with bytes `data` beside `metadata`.
function isPayload(value: unknown): value is Payload {
  return (
    value !== null && typeof value === 'object' && 'metadata' in value && (value as Payload).data instanceof Uint8Array
  );
}

function blobIdReferencedBy(payload: Payload): string[] {
  const text = (): string => Buffer.from(payload.data!).toString('utf8');
  if (metadataText(payload, 'encoding') === claimCheckEncoding)
    return [(JSON.parse(text()) as { blobId: string }).blobId];
  if (metadataText(payload, 'messageType') === referenceMessageType) {
    return [(JSON.parse(text()) as { claimData: Record<string, string> }).claimData['blob-id']!];
  }
  return [];
}

function protobufjsPathFrom(packageName: string): string {
  const packageRequire = createRequire(createRequire(import.meta.url).resolve(`${packageName}/package.json`));
  return packageRequire.resolve('protobufjs');
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

function failureMessages(error: unknown): string[] {
  const messages: string[] = [];
  for (let current: unknown = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages;
}
