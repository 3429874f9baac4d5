// A session's Temporal history as text, raw (payloads as the server stores them) and decoded (through the platform's
// codecs), for tests that check a secret never reaches history.
import type { Client } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { sessionWorkflowId } from '../../domain/ids.ts';

/** Every payload in a history, wherever it sits. */
export function collectPayloads(value: unknown, found: Payload[] = [], depth = 0): Payload[] {
  if (!value || typeof value !== 'object' || depth > 40) return found;
  if (value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    found.push(record);
    return found;
  }
  for (const inner of Object.values(record)) collectPayloads(inner, found, depth + 1);
  return found;
}

export async function sessionHistoryText(
  client: Client,
  dataConverter: DataConverter,
  sessionId: string,
): Promise<{ raw: string; decoded: string; payloadCount: number }> {
  const history = await client.workflow.getHandle(sessionWorkflowId(sessionId)).fetchHistory();
  const raw = JSON.stringify(history, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
  );
  let payloads = collectPayloads(history);
  const payloadCount = payloads.length;
  for (const codec of [...(dataConverter.payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
  const decoded = payloads.map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8')).join('\n');
  return { raw, decoded, payloadCount };
}
