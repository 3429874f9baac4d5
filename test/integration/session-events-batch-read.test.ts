// The model activity reads its transcript beside writing the batch handed to it (readEventsWithBatch): what it reads
// must be exactly what readEvents returns once the batch is written — the same events, in seq order, each as stored
// (jsonb orders object keys its own way), within the same range.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { appendSessionEvents, readEvents, readEventsWithBatch } from '../../db/repositories/session-events.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { JournaledEvent, SessionEvent } from '../../domain/events.ts';

let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(async () => {
  await pool?.end();
});

const event = (seq: number, type: string, extra: Record<string, unknown> = {}): JournaledEvent => ({
  seq,
  event: {
    type,
    id: `sevt_batch_read_${randomUUID().replaceAll('-', '')}`,
    processed_at: new Date(Date.UTC(2026, 10, 29, 3, 0, seq)).toISOString(),
    ...extra,
  } as unknown as SessionEvent,
});

it('reads the handed-off batch as the journal will hold it, after the rows before it', async () => {
  const sessionId = `sesn_batch_read_${randomUUID().replaceAll('-', '')}`;
  const written: JournalBatch = {
    sessionId,
    events: [
      event(1, 'user.message', { content: [{ type: 'text', text: 'run it' }] }),
      event(2, 'session.status_running'),
      event(3, 'span.model_request_start', { model: 'm' }),
    ],
  };
  await appendSessionEvents(pool, written);
  // Keys in an order jsonb does not keep (longer keys after shorter ones), nested too.
  const handedOff: JournalBatch = {
    sessionId,
    events: [
      event(4, 'agent.tool_use', { name: 'bash', input: { zebra_long_key: 1, cmd: 'true', a: { yy: 2, x: 1 } } }),
      event(5, 'agent.tool_result', { tool_use_id: 'x', content: [{ type: 'text', text: 'ok' }], is_error: false }),
    ],
  };

  const beside = await readEventsWithBatch(pool, handedOff, { throughSeq: 5 });
  const partial = await readEventsWithBatch(pool, handedOff, { afterSeq: 2, throughSeq: 4 });
  await appendSessionEvents(pool, handedOff);
  expect(beside).toEqual(await readEvents(pool, sessionId, { throughSeq: 5 }));
  expect(JSON.stringify(beside)).toBe(JSON.stringify(await readEvents(pool, sessionId, { throughSeq: 5 })));
  expect(partial).toEqual(await readEvents(pool, sessionId, { afterSeq: 2, throughSeq: 4 }));
  expect(beside.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5]);

  // A retried attempt: the batch is in the journal already; it is read once, not twice.
  expect(await readEventsWithBatch(pool, handedOff, { throughSeq: 5 })).toEqual(beside);
});
