// Fault injection: random model faults (429 with retry-after, 529, 500, connection resets before and during the
// response, malformed SSE, an error event mid-stream, a stream that ends early, a non-retryable 400) in front of scripted
// answers with tool calls, over all three wire protocols. Every turn must journal exactly the documented events: a
// `session.error` (retrying) + `session.status_rescheduled` per retried fault, then the answer exactly once; past the
// retry limit `retries_exhausted`; a 400 `session.error` and end of turn — and the next message works normally.
// The plan comes from a seeded PRNG: the seed is printed, FAULTS_MODEL_SEED=<seed> replays it. Short by default (CI);
// FAULTS_MODEL_REQUESTS=400 FAULTS_RESULTS=1 runs the long version and writes bench/results.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeResult } from '../../bench/support/results.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../domain/events.ts';
import type { ModelProvider } from '../../domain/model.ts';
import { eventLine } from '../support/event-lines.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';
import {
  expectedTurn,
  faultKinds,
  FaultPlanner,
  scriptFor,
  turnEnding,
  turnRequests,
  type FaultKind,
  type PlannedSession,
} from '../support/model-fault-plan.ts';

const seed = Number(process.env.FAULTS_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const targetRequests = Number(process.env.FAULTS_MODEL_REQUESTS ?? '30');
const writeResults = process.env.FAULTS_RESULTS === '1';
/** Sessions running at once (one per protocol at a time in the short run). */
const concurrency = targetRequests > 60 ? 6 : 3;

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'faults-random', workers: ['session', 'model', 'backend'] });
});
afterAll(async () => {
  await platform?.stop();
});

/** One line per event; the results of one step's concurrent tool calls are sorted, as their order is free. */
function summarise(events: SessionEvent[]): string[] {
  const orderOf = new Map<string, string>();
  const lines = events.map((event) => {
    switch (event.type) {
      case 'agent.tool_use':
        orderOf.set(event.id, String(event.input.order_id));
        return `agent.tool_use ${event.name} ${String(event.input.order_id)}`;
      case 'agent.tool_result':
        return `agent.tool_result ${orderOf.get(event.tool_use_id) ?? `unknown tool use ${event.tool_use_id}`}`;
      default:
        return eventLine(event);
    }
  });
  const sorted: string[] = [];
  let results: string[] = [];
  for (const line of [...lines, '']) {
    if (line.startsWith('agent.tool_result ')) {
      results.push(line);
      continue;
    }
    sorted.push(...results.sort());
    results = [];
    if (line !== '') sorted.push(line);
  }
  return sorted;
}

/** Splits a session's events into turns: each starts at a user.message. */
function turnsOf(events: SessionEvent[]): SessionEvent[][] {
  const turns: SessionEvent[][] = [];
  for (const event of events) {
    if (event.type === 'user.message') turns.push([]);
    turns.at(-1)?.push(event);
  }
  return turns;
}

interface SessionOutcome {
  protocol: ModelProvider;
  maxAttempts: number;
  requests: number;
  turns: number;
  injected: FaultKind[];
  sessionErrors: number;
  retries: number;
  exhaustions: number;
  rejections: number;
  events: number;
}

const retrySettings = { initialMs: 100, maxMs: 1_000 };

async function runSession(planned: PlannedSession): Promise<SessionOutcome> {
  const model = `${platform.prefix}-${seed}-${planned.index}-${planned.protocol}`;
  const script = scriptFor(planned);
  platform.fakeModel.setScript(model, script);
  const agent = agentSnapshot({
    model: { id: model, provider: planned.protocol },
    tools: [
      {
        type: 'backend',
        name: 'lookup_order',
        description: 'Look up an order',
        input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
        task_queue: platform.backendQueue,
        activity: 'lookupOrder',
      },
    ],
  });
  const settings = fastSettings(platform.prefix, {
    modelMaxAttempts: planned.maxAttempts,
    modelRetryInitialMs: retrySettings.initialMs,
    modelRetryMaxMs: retrySettings.maxMs,
  });
  const session = await new WorkflowSession(platform, agent, settings).start();
  const where = `seed ${seed}, session ${planned.index} (${planned.protocol}, max ${planned.maxAttempts} attempts)`;
  const retryWaits: number[] = [];
  for (const [index, turn] of planned.turns.entries()) {
    await session.message(turn.message);
    const events = await session.waitForTurnEnd(index + 1, 60_000);
    const expected = expectedTurn(turn, planned.maxAttempts, retrySettings);
    expect(summarise(turnsOf(events)[index] ?? []), `${where}, turn ${index}`).toEqual(expected.events);
    retryWaits.push(...expected.retryWaitsMs);
  }

  // The whole log: gap-free, unique ids, one result per tool use, a session.error for every fault served.
  const journaled = await readEvents(platform.pool, session.sessionId);
  const events = journaled.map((entry) => entry.event);
  expect(
    journaled.map((entry) => entry.seq),
    where,
  ).toEqual(journaled.map((_, index) => index + 1));
  expect(new Set(events.map((event) => event.id)).size, where).toBe(events.length);
  const toolUses = events.filter((event) => event.type === 'agent.tool_use').map((event) => event.id);
  const toolResults = events.filter((event) => event.type === 'agent.tool_result').map((event) => event.tool_use_id);
  expect([...toolResults].sort(), where).toEqual([...toolUses].sort());
  const injected = platform.fakeModel.faults(model);
  const plannedFaults = planned.turns.flatMap((turn) => turn.steps.flatMap((step) => step.faults));
  expect(injected, where).toEqual(plannedFaults.map((fault) => fault.fault));
  const errors = events.filter((event) => event.type === 'session.error');
  expect(errors.length, where).toBe(injected.length);
  expect(platform.fakeModel.requests(model).length, where).toBe(script.length);
  for (const rejection of errors.filter((event) => event.error.message.includes('HTTP 400'))) {
    expect(rejection.error).toMatchObject({ type: 'model_request_failed_error', retry_status: { type: 'exhausted' } });
    expect(rejection.error.message).toContain('rejected for good');
  }
  // Each retry waited on a durable timer: the provider's retry-after when it sent one, else the loop's backoff.
  const history = await session.handle.fetchHistory();
  const timers = (history.events ?? []).flatMap((event) => {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
  });
  expect(timers, where).toEqual(retryWaits);
  await session.terminate();

  const endings = planned.turns.map((turn) => turnEnding(turn, planned.maxAttempts));
  return {
    protocol: planned.protocol,
    maxAttempts: planned.maxAttempts,
    requests: planned.turns.reduce((sum, turn) => sum + turnRequests(turn, planned.maxAttempts), 0),
    turns: planned.turns.length,
    injected: plannedFaults.map((fault) => fault.kind),
    sessionErrors: errors.length,
    retries: errors.filter((event) => event.error.retry_status.type === 'retrying').length,
    exhaustions: endings.filter((ending) => ending === 'retries_exhausted').length,
    rejections: endings.filter((ending) => ending === 'rejected').length,
    events: events.length,
  };
}

it(
  `random model faults over ${targetRequests}+ model requests are retried, exhausted or surfaced as documented`,
  { timeout: 120_000 + targetRequests * 1_500 },
  async () => {
    const sessions = new FaultPlanner(seed).plan(targetRequests);
    console.log(
      `faults-model-random: seed ${seed} (replay with FAULTS_MODEL_SEED=${seed}), ${sessions.length} sessions`,
    );
    const outcomes: SessionOutcome[] = [];
    const queue = [...sessions];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) outcomes.push(await runSession(next));
      }),
    );
    const injected = outcomes.flatMap((outcome) => outcome.injected);
    // Every kind of fault was served at least once, and at least one turn ran out of retries.
    expect(new Set(injected)).toEqual(new Set(faultKinds));
    expect(outcomes.some((outcome) => outcome.exhaustions > 0)).toBe(true);
    expect(new Set(outcomes.map((outcome) => outcome.protocol)).size).toBe(3);
    const total = summariseRun(outcomes);
    console.log(`faults-model-random: ${JSON.stringify(total)}`);
    if (writeResults) writeRunResult(total, outcomes);
  },
);

function summariseRun(outcomes: SessionOutcome[]) {
  const sum = (pick: (outcome: SessionOutcome) => number, of = outcomes) =>
    of.reduce((total, outcome) => total + pick(outcome), 0);
  const injected = outcomes.flatMap((outcome) => outcome.injected);
  const byKind = Object.fromEntries(faultKinds.map((kind) => [kind, injected.filter((k) => k === kind).length]));
  const protocols: ModelProvider[] = ['anthropic', 'openai-chat', 'openai-responses'];
  const byProtocol = Object.fromEntries(
    protocols.map((protocol) => {
      const of = outcomes.filter((outcome) => outcome.protocol === protocol);
      return [
        protocol,
        {
          sessions: of.length,
          turns: sum((o) => o.turns, of),
          requests: sum((o) => o.requests, of),
          faults: sum((o) => o.injected.length, of),
          retries: sum((o) => o.retries, of),
          exhaustions: sum((o) => o.exhaustions, of),
          rejections: sum((o) => o.rejections, of),
        },
      ];
    }),
  );
  return {
    seed,
    sessions: outcomes.length,
    turns: sum((o) => o.turns),
    requests: sum((o) => o.requests),
    faults: injected.length,
    sessionErrors: sum((o) => o.sessionErrors),
    retries: sum((o) => o.retries),
    exhaustions: sum((o) => o.exhaustions),
    rejections: sum((o) => o.rejections),
    events: sum((o) => o.events),
    byKind,
    byProtocol,
  };
}

function writeRunResult(total: ReturnType<typeof summariseRun>, outcomes: SessionOutcome[]): void {
  const command = `FAULTS_MODEL_REQUESTS=${targetRequests} FAULTS_RESULTS=1 npx vitest run test/faults/model-random.test.ts`;
  const kinds = Object.entries(total.byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const protocolRows = Object.entries(total.byProtocol).map(
    ([protocol, p]) =>
      `| ${protocol} | ${p.sessions} | ${p.turns} | ${p.requests} | ${p.faults} | ${p.retries} | ${p.exhaustions} | ${p.rejections} |`,
  );
  writeResult(
    'faults-model-random',
    { ...total, outcomes },
    [
      '## Fault injection: random model faults (long run)',
      '',
      `${total.requests} model requests over ${total.sessions} sessions (${total.turns} turns; seed ${seed}), each ` +
        'model answer preceded at random by none, one or a run of injected faults — sometimes more than the ' +
        `session's retry limit (3 or 5 attempts) allows, sometimes a non-retryable 400. Faults served: ${total.faults} ` +
        `(${kinds}).`,
      '',
      '| protocol | sessions | turns | requests | faults | retries | exhaustions | 400s |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...protocolRows,
      '',
      `Result: every turn journaled exactly the documented events — ${total.retries} retries (\`session.error\` ` +
        `retrying + \`session.status_rescheduled\`, each on a timer honouring retry-after or the backoff), ` +
        `${total.exhaustions} turns ended \`retries_exhausted\`, ${total.rejections} 400s surfaced as \`session.error\` ` +
        'with the turn ended and the session usable; every answer, tool use and tool result exactly once; ' +
        `${total.sessionErrors} \`session.error\` events for ${total.faults} faults served; every log gap-free ` +
        'with unique ids.',
      '',
      `Command: \`${command}\` (add \`FAULTS_MODEL_SEED=${seed}\` to replay this plan).`,
    ],
    command,
  );
}
