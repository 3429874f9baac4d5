// Journal writes announce themselves on the events channel; a notice carries the rows written (as the stream would
// read them back) when they fit, and is bare otherwise or when nothing was written (a retried write).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  appendSessionEvents,
  eventsOfEventsNotice,
  readEventsAfter,
  sessionEventsChannel,
  sessionOfEventsNotice,
} from '../../db/repositories/session-events.ts';
import type { JournalBatch } from '../../domain/contracts/journal-batch.ts';
import type { SessionEvent } from '../../domain/events.ts';

let pool: pg.Pool;
let listener: pg.PoolClient;
const notices: string[] = [];
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 3 });
  listener = await pool.connect();
  listener.on('notification', (message) => notices.push(message.payload ?? ''));
  await listener.query(`listen ${sessionEventsChannel}`);
});
afterAll(async () => {
  listener?.release(true);
  await pool?.end();
});

const batch = (sessionId: string, firstSeq: number, texts: string[]): JournalBatch => ({
  sessionId,
  events: texts.map((text, index) => ({
    seq: firstSeq + index,
    event: {
      type: 'user.message',
      id: `sevt_notice_${randomUUID().replaceAll('-', '')}`,
      processed_at: new Date(Date.UTC(2026, 10, 29, 9, 0, index)).toISOString(),
      content: [{ type: 'text', text, nested: { zebra_long_key: 1, a: 2 } }],
    } as unknown as SessionEvent,
  })),
});

async function noticeOf(sessionId: string): Promise<string> {
  for (let waited = 0; waited < 5_000; waited += 10) {
    const found = notices.find((notice) => sessionOfEventsNotice(notice) === sessionId);
    if (found) {
      notices.splice(notices.indexOf(found), 1);
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no notice for ${sessionId}`);
}

it('carries small batches as the log holds them; large ones and repeated writes are announced bare', async () => {
  const sessionId = `sesn_notice_${randomUUID().replaceAll('-', '')}`;
  const small = batch(sessionId, 1, ['one', 'two']);
  await appendSessionEvents(pool, small);
  const carried = eventsOfEventsNotice(await noticeOf(sessionId));
  const logged = await readEventsAfter(pool, sessionId, 0, 10);
  expect(carried).toEqual(logged);
  expect(JSON.stringify(carried)).toBe(JSON.stringify(logged)); // the same key order as a read

  await appendSessionEvents(pool, small); // a retried write: nothing new
  const repeated = await noticeOf(sessionId);
  expect(eventsOfEventsNotice(repeated)).toBeUndefined();
  expect(repeated).toBe(`${sessionId} 2`);

  await appendSessionEvents(pool, batch(sessionId, 3, ['x'.repeat(8_000)]));
  const large = await noticeOf(sessionId);
  expect(large).toBe(`${sessionId} 3`);
  expect(eventsOfEventsNotice(large)).toBeUndefined();

  await appendSessionEvents(pool, batch(sessionId, 4, ['after']));
  const next = eventsOfEventsNotice(await noticeOf(sessionId));
  expect(next?.map((row) => row.position)).toEqual([4]);
});
