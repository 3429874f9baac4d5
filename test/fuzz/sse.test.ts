// Seeded fuzzing of the SSE stream (GET /v1/sessions/:id/events/stream), which schemathesis cannot usefully drive.
// On a real session with a few turns behind it: malformed cursors, ids, methods, keys and queries get a 200 stream or
// a 4xx in the one error shape, never a 5xx or a hang, and write nothing; valid resumes replay exactly the events
// after the cursor, as the list endpoint has them; clients that drop mid-frame while a turn runs and resume from
// their last complete id see every event once; closed streams release their listeners. FUZZ_SSE_SEED reproduces a
// run (the seed is printed), FUZZ_SSE_CASES sets the number of generated requests (default 200).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantWithKey, type CreatedTenant } from '../../db/repositories/tenants.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import {
  makeRandom,
  rawRequest,
  readStream,
  requestHead,
  type RawResponse,
  type StreamFrame,
} from '../support/sse-fuzz-clients.ts';
import { generateRequest } from '../support/sse-fuzz-requests.ts';

const seed = Number(process.env.FUZZ_SSE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const caseCount = Number(process.env.FUZZ_SSE_CASES ?? '200');
console.log(`fuzz-sse: seed ${seed}, ${caseCount} cases (FUZZ_SSE_SEED=${seed} FUZZ_SSE_CASES=${caseCount})`);

let harness: ApiHarness;
let other: CreatedTenant;
const sessions = { main: '', archived: '', deleted: '', others: '' };
let journal: { seq: number; id: string; type: string; body: unknown }[] = [];
let model = '';

const asTenant = async (key: string, path: string, body?: unknown, method = body ? 'POST' : 'GET') => {
  const response = await harness.request(path, {
    method,
    apiKey: key,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${method} ${path}`).toBe(200);
  return (await response.json()) as { id: string; data?: unknown[] };
};

async function createSession(key: string): Promise<string> {
  const agent = await asTenant(key, '/v1/agents', { name: 'fuzz-sse agent', model, tools: [] });
  const environment = await asTenant(key, '/v1/environments', { name: `fuzz-sse-${agent.id}` });
  return (await asTenant(key, '/v1/sessions', { agent: agent.id, environment_id: environment.id })).id;
}

const idleCount = async (sessionId: string) =>
  (await readEvents(harness.platform.pool, sessionId)).filter(({ event }) => event.type === 'session.status_idle')
    .length;

/** Sends user messages and waits for the turns they start to end. */
async function runTurns(sessionId: string, texts: string[]): Promise<void> {
  const before = await idleCount(sessionId);
  await asTenant(harness.tenant.apiKey, `/v1/sessions/${sessionId}/events`, {
    events: texts.map((text) => ({ type: 'user.message', content: [{ type: 'text', text }] })),
  });
  await eventually(
    async () => ((await idleCount(sessionId)) >= before + texts.length ? true : undefined),
    60_000,
    'the turns to end',
  );
}

async function readJournal(sessionId: string) {
  const journaled = await readEvents(harness.platform.pool, sessionId);
  return journaled.map(({ seq, event }) => ({ seq, id: event.id, type: event.type, body: event }));
}

/** The list endpoint's events, in order (they must equal the stream's data). */
async function listedEvents(sessionId: string): Promise<unknown[]> {
  const page = await asTenant(harness.tenant.apiKey, `/v1/sessions/${sessionId}/events?limit=1000`);
  return page.data ?? [];
}

const eventRowCount = async () => {
  const journals = await Promise.all(Object.values(sessions).map((id) => readEvents(harness.platform.pool, id)));
  return journals.reduce((sum, journal) => sum + journal.length, 0);
};

beforeAll(async () => {
  harness = await startApiHarness('fuzz-sse', { heartbeatMs: 50 });
  other = await createTenantWithKey(harness.platform.pool, 'fuzz-sse other tenant');
  model = `${harness.platform.prefix}-fuzz-sse`;
  const answer = (turn: number) => `Answer ${turn}: ` + 'streamed words, a few at a time. '.repeat(turn + 2);
  harness.platform.fakeModel.setScript(
    model,
    Array.from({ length: 12 }, (_, turn) => ({
      // The first three turns build the journal; the later ones run slowly while clients come and go.
      text: turn < 3 ? answer(turn) : answer(turn).repeat(4),
      thinking: turn % 2 === 0 ? `thinking about ${turn}` : undefined,
      chunkSize: 6,
      chunkDelayMs: turn < 3 ? 2 : 8,
    })),
  );
  sessions.main = await createSession(harness.tenant.apiKey);
  await runTurns(sessions.main, ['one']);
  await runTurns(sessions.main, ['two', 'three']);
  sessions.archived = await createSession(harness.tenant.apiKey);
  await asTenant(harness.tenant.apiKey, `/v1/sessions/${sessions.archived}/archive`, {});
  sessions.deleted = await createSession(harness.tenant.apiKey);
  await asTenant(harness.tenant.apiKey, `/v1/sessions/${sessions.deleted}`, undefined, 'DELETE');
  sessions.others = await createSession(other.apiKey);
  journal = await readJournal(sessions.main);
}, 180_000);

afterAll(async () => {
  await harness?.stop();
});

const port = () => Number(new URL(harness.baseURL).port);

/** Why a body is not the one error shape, or undefined when it is. */
function errorShapeProblem(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { type?: unknown; error?: Record<string, unknown>; request_id?: unknown };
    const keys = Object.keys(parsed).sort().join(',');
    const errorKeys = Object.keys(parsed.error ?? {})
      .sort()
      .join(',');
    if (keys !== 'error,request_id,type' || parsed.type !== 'error') return `keys ${keys}`;
    if (errorKeys !== 'message,type') return `error keys ${errorKeys}`;
    if (!String(parsed.request_id).startsWith('req_')) return `request_id ${String(parsed.request_id)}`;
    return undefined;
  } catch {
    return 'not JSON';
  }
}

async function inParallel<T>(items: T[], width: number, run: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const index = next++;
        await run(items[index] as T, index);
      }
    }),
  );
}

const clip = (text: string, length = 160) => (text.length > length ? `${text.slice(0, length)}…` : text);

/** The events a resume after `cursor` must deliver, checked frame by frame against the journal and the list. */
function resumeProblems(frames: StreamFrame[], cursor: number, listed: unknown[], events = journal): string[] {
  const expected = events.filter((entry) => entry.seq > cursor);
  const received = frames.filter((frame) => frame.id !== undefined);
  const problems: string[] = [];
  const ids = received.map((frame) => frame.id);
  if (JSON.stringify(ids) !== JSON.stringify(expected.map((entry) => entry.seq))) {
    problems.push(`seqs ${clip(JSON.stringify(ids))}, expected ${clip(JSON.stringify(expected.map((e) => e.seq)))}`);
  }
  for (const frame of received) {
    const index = events.findIndex((entry) => entry.seq === frame.id);
    const data = JSON.parse(frame.data) as { type?: string };
    if (!/^event: [^\n]+\ndata: [^\n]*\nid: \d+$/.test(frame.raw)) problems.push(`frame format ${clip(frame.raw)}`);
    if (frame.event !== data.type) problems.push(`event: ${frame.event} but data.type ${String(data.type)}`);
    if (index < 0 || JSON.stringify(data) !== JSON.stringify(listed[index])) {
      problems.push(`seq ${String(frame.id)}: data differs from the list endpoint`);
    }
  }
  return problems;
}

/** Status codes of every request the API completed, from its own log (as test/fuzz/api.test.ts reads it). */
function loggedServerErrors(lines: string[]): { completed: number; serverErrors: string[]; errorLines: string[] } {
  let completed = 0;
  const serverErrors: string[] = [];
  const errorLines: string[] = [];
  for (const line of lines) {
    let entry: { level?: number; msg?: string; reqId?: string; res?: { statusCode?: number } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) >= 50) errorLines.push(clip(line, 600));
    if (entry.msg !== 'request completed' || entry.res?.statusCode === undefined) continue;
    completed++;
    if (entry.res.statusCode >= 500) serverErrors.push(`${entry.res.statusCode} ${entry.reqId ?? ''}`);
  }
  return { completed, serverErrors, errorLines };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${harness.baseURL}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  return Number(match?.[1] ?? Number.NaN);
}

const streamPath = (sessionId: string, query = '') =>
  `${harness.baseURL}/v1/sessions/${sessionId}/events/stream${query}`;
const withKey = (headers: Record<string, string> = {}) => ({ 'x-api-key': harness.tenant.apiKey, ...headers });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`SSE stream fuzzing (seed ${seed})`, () => {
  it('answers malformed requests with a 200 stream or a 4xx in the one error shape, and writes nothing', async () => {
    const random = makeRandom(seed);
    const before = await eventRowCount();
    const context = {
      sessions,
      ownKey: harness.tenant.apiKey,
      otherKey: other.apiKey,
      lastSeq: journal.at(-1)?.seq ?? 0,
    };
    const requests = Array.from({ length: Math.ceil(caseCount / 2) }, () => generateRequest(random, context));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    await inParallel(requests, 6, async (request, index) => {
      const context = `case ${index}: ${request.method} ${clip(request.target.toString('latin1'), 100)} [${clip(request.label)}]`;
      let response: RawResponse;
      try {
        response = await rawRequest(
          port(),
          requestHead(request.method, request.target, request.headers),
          request.method,
        );
      } catch (error) {
        failures.push(`${context}: ${(error as Error).message}`);
        return;
      }
      const verdicts = Object.values(request.verdicts);
      const expected = verdicts.includes('reject') ? 'reject' : verdicts.includes('either') ? 'either' : 'ok';
      const { status } = response;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const answered = `${status} ${clip(response.body)}`;
      if (status !== 200 && (status < 400 || status >= 500)) failures.push(`${context}: answered ${answered}`);
      else if (expected === 'ok' && status !== 200) failures.push(`${context}: a valid request answered ${answered}`);
      else if (expected === 'reject' && status === 200) failures.push(`${context}: an invalid request was accepted`);
      else if (status === 200 && !response.headers.get('content-type')?.includes('text/event-stream')) {
        failures.push(`${context}: 200 without text/event-stream`);
      } else if (status !== 200 && request.method !== 'HEAD') {
        const problem = errorShapeProblem(response.body);
        if (problem) failures.push(`${context}: ${status} not in the error shape (${problem}): ${clip(response.body)}`);
      }
    });
    console.log(`fuzz-sse: malformed-input statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures, `seed ${seed}:\n${failures.join('\n')}`).toEqual([]);
    expect(await eventRowCount()).toBe(before);
  });

  it('replays exactly the events after the cursor, as the list endpoint has them; the header beats ?after=', async () => {
    const random = makeRandom(seed + 1);
    const listed = await listedEvents(sessions.main);
    expect(listed.map((event) => (event as { id: string }).id)).toEqual(journal.map((entry) => entry.id));
    const last = journal.at(-1)?.seq ?? 0;
    const failures: string[] = [];
    const cases = Array.from({ length: Math.ceil(caseCount / 4) }, () => {
      const mode = random.pick(['header', 'after', 'both'] as const);
      const header = random.int(0, last + 2);
      const after = mode === 'both' ? random.int(0, last + 2) : header;
      const deltas = random.chance(0.3) ? `event_deltas[]=${random.pick(['agent.message', 'agent.thinking'])}` : '';
      return { mode, header, after, deltas, accept: random.pick(['text/event-stream', '*/*', 'application/json']) };
    });
    await inParallel(cases, 6, async (entry, index) => {
      const cursor = entry.mode === 'after' ? entry.after : entry.header; // the documented rule: the header wins
      const query = [entry.mode === 'header' ? '' : `after=${entry.after}`, entry.deltas].filter(Boolean).join('&');
      const headers: Record<string, string> = withKey({ accept: entry.accept });
      if (entry.mode !== 'after') headers['last-event-id'] = String(entry.header);
      const read = await readStream(streamPath(sessions.main, query ? `?${query}` : ''), headers, {
        enough: (frames) =>
          cursor >= last
            ? frames.filter((frame) => frame.event === 'ping').length >= 2
            : frames.some((frame) => frame.id === last),
      });
      const context = `resume ${index} (${JSON.stringify(entry)})`;
      if (read.status !== 200 || read.timedOut) failures.push(`${context}: ${read.status}, timed out ${read.timedOut}`);
      else failures.push(...resumeProblems(read.frames, cursor, listed).map((problem) => `${context}: ${problem}`));
    });
    expect(failures, `seed ${seed}:\n${failures.join('\n')}`).toEqual([]);
  });

  it('gives clients that drop mid-frame and resume during turns every event once', { timeout: 120_000 }, async () => {
    const startSeq = journal.at(-1)?.seq ?? 0;
    let finalSeq = Number.POSITIVE_INFINITY;
    const failures: string[] = [];
    let connections = 0;
    let deltaFrames = 0;
    const receivedBy: { start: number; frames: StreamFrame[] }[] = [];

    /** One client: drops the connection at random and comes back with the last complete id, until the end. */
    const chain = async (index: number) => {
      const random = makeRandom(seed * 7 + index);
      const start = random.int(0, startSeq);
      const mine = { start, frames: [] as StreamFrame[] };
      receivedBy.push(mine);
      let lastId = start;
      for (let attempt = 0; lastId < finalSeq; attempt++) {
        if (attempt > 2_000) return failures.push(`chain ${index}: no progress after ${attempt} connections`);
        const viaHeader = random.chance(0.7);
        const deltas = random.chance(0.5) ? `&event_deltas[]=agent.message&event_deltas[]=agent.thinking` : '';
        const read = await readStream(
          streamPath(sessions.main, `?${viaHeader ? '' : `after=${lastId}`}${deltas}`),
          withKey(viaHeader ? { 'last-event-id': String(lastId) } : {}),
          {
            maxBytes: random.pick([random.int(1, 200), random.int(200, 3_000), random.int(3_000, 30_000)]),
            abortAfterMs: random.chance(0.2) ? random.int(0, 20) : random.int(50, 400),
          },
        );
        connections++;
        if (read.status !== 0 && read.status !== 200) failures.push(`chain ${index}: answered ${read.status}`);
        for (const frame of read.frames) {
          if (frame.event === 'event_delta') deltaFrames++;
          if (frame.id === undefined) continue;
          mine.frames.push(frame);
          lastId = frame.id;
        }
      }
    };

    /** Streams opened and dropped at random, live or resumed, some before the answer's head arrives. */
    let turnsRunning = true;
    const noise = async (index: number) => {
      const random = makeRandom(seed * 13 + index);
      while (turnsRunning) {
        await sleep(random.int(0, 60));
        const query = random.pick(['', `?after=${random.int(0, startSeq)}`, '?event_deltas[]=agent.message']);
        const read = await readStream(streamPath(sessions.main, query), withKey(), {
          maxBytes: random.int(1, 5_000),
          abortAfterMs: random.int(0, 150),
        });
        connections++;
        if (read.status !== 0 && read.status !== 200) failures.push(`noise ${index}: answered ${read.status}`);
      }
    };

    const chainCount = Math.max(4, Math.round(caseCount / 25));
    const noiseCount = Math.max(2, Math.round(caseCount / 50));
    const clients = [
      ...Array.from({ length: chainCount }, (_, index) => chain(index)),
      ...Array.from({ length: noiseCount }, (_, index) => noise(index)),
    ];
    await runTurns(sessions.main, ['four', 'five']);
    await runTurns(sessions.main, ['six']);
    journal = await readJournal(sessions.main);
    finalSeq = journal.at(-1)?.seq ?? 0;
    turnsRunning = false;
    await Promise.all(clients);
    console.log(
      `fuzz-sse: ${connections} stream connections during the turns (seqs ${startSeq}→${finalSeq}, ${deltaFrames} deltas)`,
    );

    const listed = await listedEvents(sessions.main);
    for (const [index, { start, frames }] of receivedBy.entries()) {
      failures.push(...resumeProblems(frames, start, listed).map((problem) => `chain ${index}: ${problem}`));
    }
    expect(failures, `seed ${seed}:\n${failures.join('\n')}`).toEqual([]);
  });

  it('stays healthy: no 5xx in its own log, closed streams release their listeners', async () => {
    await eventually(
      async () =>
        (await metric('agents_api_open_event_streams')) === 0 && (await metric('agents_api_event_listeners')) === 0
          ? true
          : undefined,
      10_000,
      'every closed stream to release its listener',
    );
    expect((await fetch(`${harness.baseURL}/health`)).status).toBe(200);
    const pool = harness.platform.pool;
    expect(pool.waitingCount).toBe(0);
    const logged = loggedServerErrors(harness.logLines);
    // Streams are hijacked and never logged as completed; every error answer Fastify sends is.
    expect(logged.completed).toBeGreaterThan(0);
    expect(logged.serverErrors).toEqual([]);
    expect(logged.errorLines).toEqual([]);
  });
});

// What this fuzzer found, pinned as plain requests (each failed before its fix in api/).
describe('stream requests the fuzzer found mishandled', () => {
  const raw = (method: string, target: string, headers: [string, Buffer][] = []) =>
    rawRequest(port(), requestHead(method, Buffer.from(target, 'utf8'), headers), method);

  it('refuses ?after= values that are not a decimal seq instead of resuming from a coerced one', async () => {
    for (const value of ['', '%20', '1e3', '0x1f', '1.0', '%2B5']) {
      const response = await harness.request(`/v1/sessions/${sessions.main}/events/stream?after=${value}`);
      expect(response.status, `after=${value}`).toBe(400);
      expect(errorShapeProblem(await response.text())).toBeUndefined();
    }
  });

  it('answers what Node or Fastify refuse before routing in the one error shape', async () => {
    const key: [string, Buffer] = ['x-api-key', Buffer.from(harness.tenant.apiKey)];
    const path = `/v1/sessions/${sessions.main}/events/stream`;
    const answers = [
      await raw('GET', '/v1/sessions/sesn_%ZZ/events/stream', [key]),
      await raw('GET', `/v1/sessions/sesn_${'a'.repeat(120)}/events/stream`, [key]),
      await raw('GET', path, [key, ['last-event-id', Buffer.from('1\u00002')]]),
      await raw('GET', `/v1/sessions/sesn_ü/events/stream`, [key]),
      await raw('GET', `${path}?${'event_deltas[]=agent.message&'.repeat(1_000)}`, [key]),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(errorShapeProblem(answer.body), answer.body).toBeUndefined();
    }
  });

  it('releases the listener of a client that leaves before the stream opens, and ends HEAD at once', async () => {
    const head: [string, Buffer][] = [['x-api-key', Buffer.from(harness.tenant.apiKey)]];
    const request = requestHead('GET', Buffer.from(`/v1/sessions/${sessions.main}/events/stream`), head);
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const socket = connect(port(), '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.end(request); // sent, then gone while the session is still being looked up
        await new Promise((resolve) => socket.once('close', resolve));
      }),
    );
    // HEAD over a kept-alive connection: a stream left open behind it would never end.
    const answer = await fetch(streamPath(sessions.main), { method: 'HEAD', headers: withKey() });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/event-stream');
    expect((await fetch(`${harness.baseURL}/health`)).status).toBe(200);
    await eventually(
      async () =>
        (await metric('agents_api_open_event_streams')) === 0 && (await metric('agents_api_event_listeners')) === 0
          ? true
          : undefined,
      10_000,
      'the streams of departed clients to be released',
    );
  });
});
