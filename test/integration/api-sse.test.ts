// The SSE stream: a client that disconnects mid-turn and reconnects with Last-Event-ID receives every later event
// exactly once and in order; live deltas arrive on request, before the event they preview and never ahead of the
// events committed before them; heartbeats flow; the stream closes after session.deleted.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appendSessionEvents, publishDelta, readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';

let harness: ApiHarness;
beforeAll(async () => {
  harness = await startApiHarness('api-sse', { heartbeatMs: 100 });
});
afterAll(async () => {
  await harness?.stop();
});

interface Frame {
  event: string;
  data: Record<string, unknown>;
  id?: number;
}

/** A raw SSE client: collects frames until closed or aborted. */
function openStream(path: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const frames: Frame[] = [];
  let ended = false;
  const done = (async () => {
    const response = await harness.request(path, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const frame: Partial<Frame> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
            else if (line.startsWith('id: ')) frame.id = Number(line.slice(4));
          }
          if (frame.event) frames.push(frame as Frame);
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      ended = true;
    }
  })();
  return {
    frames,
    events: () => frames.filter((frame) => frame.id !== undefined),
    ended: () => ended,
    close: async () => {
      controller.abort();
      await done.catch(() => undefined);
    },
    done,
  };
}

const post = async (path: string, body: unknown) => {
  const response = await harness.request(path, { method: 'POST', body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string };
};

it('resumes with Last-Event-ID after a disconnect mid-turn: every later event exactly once', async () => {
  const model = `${harness.platform.prefix}-sse`;
  const hold = `${model}-hold`;
  const longText = 'The quick brown fox jumps over the lazy dog. '.repeat(8);
  harness.platform.fakeModel.setScript(model, [
    { text: longText, chunkSize: 8, chunkDelayMs: 5, holdAfterFirstChunk: hold },
    { text: 'Second answer.' },
  ]);
  const agent = await post('/v1/agents', { name: 'sse agent', model, tools: [] });
  const environment = await post('/v1/environments', { name: `sse-${harness.platform.prefix}` });
  const session = await post('/v1/sessions', { agent: agent.id, environment_id: environment.id });
  const streamPath = `/v1/sessions/${session.id}/events/stream`;

  // First connection: live from now; disconnect once the turn is running (the model call is held open).
  const first = openStream(streamPath);
  await eventually(async () => (first.frames.length > 0 || first.ended() ? true : undefined), 10_000, 'stream open');
  await post(`/v1/sessions/${session.id}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Go' }] }],
  });
  await eventually(
    async () => (first.events().some((frame) => frame.event === 'session.status_running') ? true : undefined),
    30_000,
    'status_running on the first connection',
  );
  await eventually(
    async () => (harness.platform.fakeModel.held().includes(hold) ? true : undefined),
    30_000,
    'the held model call',
  );
  await eventually(
    async () => (first.frames.some((frame) => frame.event === 'ping') ? true : undefined),
    10_000,
    'a heartbeat',
  );
  await first.close();
  const firstEvents = first.events();
  const lastSeq = firstEvents.at(-1)?.id as number;

  // Second connection: resume after the last seq seen, with live deltas; then let the model finish.
  const second = openStream(`${streamPath}?event_deltas[]=agent.message`, { 'last-event-id': String(lastSeq) });
  await eventually(async () => (second.frames.length > 0 ? true : undefined), 10_000, 'second stream open');
  harness.platform.fakeModel.release(hold);
  await eventually(
    async () =>
      second
        .events()
        .some(
          (frame) =>
            frame.event === 'session.status_idle' && (frame.data.stop_reason as { type: string }).type === 'end_turn',
        )
        ? true
        : undefined,
    30_000,
    'end of turn on the second connection',
  );
  // A second turn while still connected.
  await post(`/v1/sessions/${session.id}/events`, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'Again' }] }],
  });
  await eventually(
    async () =>
      second.events().filter((frame) => frame.event === 'session.status_idle').length >= 2 ? true : undefined,
    30_000,
    'end of the second turn',
  );
  await second.close();

  const journal = (await readEvents(harness.platform.pool, session.id)).map(({ seq, event }) => ({
    seq,
    id: event.id,
  }));
  const received = [...firstEvents, ...second.events()].map((frame) => ({ seq: frame.id, id: frame.data.id }));
  expect(received).toEqual(journal); // every event once, in order, none skipped across the reconnect
  expect(firstEvents.every((frame) => frame.event === frame.data.type)).toBe(true);

  // Deltas: an event_start, then deltas, all before the agent.message they preview; never with an id (not resumable).
  const message = second.frames.find(
    (frame) => frame.event === 'agent.message' && (frame.data.content as { text: string }[])[0]?.text === longText,
  );
  expect(message).toBeDefined();
  const messageIndex = second.frames.indexOf(message as Frame);
  const deltas = second.frames.filter(
    (frame) => frame.event === 'event_delta' && frame.data.event_id === message?.data.id,
  );
  expect(deltas.length).toBeGreaterThan(0);
  const start = second.frames.findIndex((frame) => frame.event === 'event_start');
  expect(start).toBeGreaterThanOrEqual(0);
  expect(second.frames[start]?.data).toEqual({
    type: 'event_start',
    event: { type: 'agent.message', id: message?.data.id },
  });
  for (const delta of deltas) {
    expect(second.frames.indexOf(delta)).toBeGreaterThan(start);
    expect(second.frames.indexOf(delta)).toBeLessThan(messageIndex);
    expect(delta.id).toBeUndefined();
    expect(delta.data).toMatchObject({
      type: 'event_delta',
      delta: { type: 'content_delta', content: { type: 'text' } },
    });
  }

  // ?after=0 replays the whole log.
  const replay = openStream(`${streamPath}?after=0`);
  await eventually(async () => (replay.events().length >= journal.length ? true : undefined), 10_000, 'full replay');
  await replay.close();
  expect(replay.events().map((frame) => frame.id)).toEqual(journal.map((entry) => entry.seq));

  // A live stream ends after session.deleted.
  const last = openStream(streamPath);
  await eventually(async () => (last.frames.length > 0 ? true : undefined), 10_000, 'last stream open');
  const deleted = await harness.request(`/v1/sessions/${session.id}`, { method: 'DELETE' });
  expect(deleted.status).toBe(200);
  await last.done;
  expect(last.events().at(-1)?.event).toBe('session.deleted');
  const remaining = await readEvents(harness.platform.pool, session.id);
  expect(remaining.map(({ event }) => ({ type: event.type }))).toEqual([{ type: 'session.deleted' }]);
});

it('never sends a delta ahead of the events committed before it', async () => {
  const agent = await post('/v1/agents', {
    name: 'sse order agent',
    model: `${harness.platform.prefix}-order`,
    tools: [],
  });
  const environment = await post('/v1/environments', { name: `sse-order-${harness.platform.prefix}` });
  const session = await post('/v1/sessions', { agent: agent.id, environment_id: environment.id });
  const stream = openStream(`/v1/sessions/${session.id}/events/stream?event_deltas[]=agent.message`);
  await eventually(async () => (stream.frames.length > 0 ? true : undefined), 10_000, 'stream open');

  // As the model activity does: a turn's events are committed (and announced), then its first delta is published.
  // The stream reads the events back after their notice while the delta's notice is already there.
  const { pool } = harness.platform;
  const lastSeq = (await readEvents(pool, session.id)).at(-1)?.seq ?? 0;
  const turns = 20;
  for (let turn = 1; turn <= turns; turn++) {
    const running = { type: 'session.status_running' as const, id: `sevt_order_${turn}`, processed_at: null };
    await appendSessionEvents(pool, { sessionId: session.id, events: [{ seq: lastSeq + turn, event: running }] });
    await publishDelta(pool, {
      session_id: session.id,
      event_id: `sevt_order_message_${turn}`,
      event_type: 'agent.message',
      index: 0,
      text: `turn ${turn}`,
    });
  }
  const deltaOf = (turn: number) =>
    stream.frames.findIndex(
      (frame) => frame.event === 'event_delta' && frame.data.event_id === `sevt_order_message_${turn}`,
    );
  await eventually(async () => (deltaOf(turns) >= 0 ? true : undefined), 10_000, 'the last delta');
  await stream.close();
  for (let turn = 1; turn <= turns; turn++) {
    const running = stream.frames.findIndex((frame) => frame.data.id === `sevt_order_${turn}`);
    expect(running, `turn ${turn}: its event`).toBeGreaterThanOrEqual(0);
    expect(deltaOf(turn), `turn ${turn}: its delta after its event`).toBeGreaterThan(running);
  }
});
