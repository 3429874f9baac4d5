// Model faults on the real stack: each injected fault is retried with the documented events, exhaustion ends the turn
// with retries_exhausted, a rejected request surfaces as session.error, and the next message is answered normally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import type { FakeTurn } from '../fake-model/script.ts';
import { recordHistory } from '../support/histories.ts';
import { eventLine } from '../support/event-lines.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { agentSnapshot, fastSettings, WorkflowSession } from '../support/workflow-session.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ label: 'faults', workers: ['session', 'model'] });
});
afterAll(async () => {
  await platform?.stop();
});

const summary = (events: SessionEvent[]): string[] => events.map(eventLine);

const retried = (errorType: string) => [
  'user.message',
  'session.status_running',
  'span.model_request_start',
  'span.model_request_end error',
  `session.error ${errorType} retrying`,
  'session.status_rescheduled',
  'session.status_running',
  'span.model_request_start',
  'span.model_request_end ok',
  'agent.message recovered',
  'session.status_idle end_turn',
];
const normalTurn = [
  'user.message',
  'session.status_running',
  'span.model_request_start',
  'span.model_request_end ok',
  'agent.message fine',
  'session.status_idle end_turn',
];

const cases: Array<{ name: string; fault: FakeTurn['fault']; expected: string[] }> = [
  {
    name: '429 with retry-after',
    fault: { type: 'http', status: 429, retryAfterSeconds: 1 },
    expected: retried('model_rate_limited_error'),
  },
  { name: '529 overloaded', fault: { type: 'http', status: 529 }, expected: retried('model_overloaded_error') },
  { name: '500', fault: { type: 'http', status: 500 }, expected: retried('model_overloaded_error') },
  { name: 'reset mid-stream', fault: { type: 'reset_mid_stream' }, expected: retried('model_request_failed_error') },
  { name: 'malformed chunk', fault: { type: 'malformed_chunk' }, expected: retried('model_request_failed_error') },
];

describe('model faults', () => {
  it.each(cases)(
    '$name is retried with the documented events, then the session goes on',
    async ({ fault, expected }) => {
      const model = `${platform.prefix}-${expected[4]!.split(' ')[1]}-${Math.random().toString(36).slice(2, 8)}`;
      platform.fakeModel.setScript(model, [{ fault }, { text: 'recovered' }, { text: 'fine' }]);
      const session = await new WorkflowSession(
        platform,
        agentSnapshot({ model: { id: model } }),
        fastSettings(platform.prefix),
      ).start();
      await session.message('hello');
      await session.waitForTurnEnd(1);
      await session.message('and again');
      const events = await session.waitForTurnEnd(2);
      expect(summary(events)).toEqual([...expected, ...normalTurn]);
      // The wait before the retry is a durable timer: the provider's retry-after when it sent one, else the backoff.
      const history = await session.handle.fetchHistory();
      const timers = (history.events ?? []).flatMap((event) =>
        event.timerStartedEventAttributes
          ? [
              Number(event.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0) * 1000 +
                Math.round((event.timerStartedEventAttributes.startToFireTimeout?.nanos ?? 0) / 1e6),
            ]
          : [],
      );
      expect(timers[0]).toBe(fault?.type === 'http' && fault.retryAfterSeconds ? fault.retryAfterSeconds * 1000 : 100);
      await session.terminate();
      if (fault?.type === 'http' && fault.status === 429) {
        await recordHistory(platform.client, session.handle.workflowId, 'model-retry');
      }
    },
  );

  it('a slow first token is only slow', async () => {
    const model = `${platform.prefix}-slow`;
    platform.fakeModel.setScript(model, [{ text: 'fine', firstTokenDelayMs: 1_500 }]);
    const session = await new WorkflowSession(
      platform,
      agentSnapshot({ model: { id: model } }),
      fastSettings(platform.prefix),
    ).start();
    await session.message('hello');
    expect(summary(await session.waitForTurnEnd(1))).toEqual(normalTurn);
    await session.terminate();
  });

  it('exhausted retries end the turn with retries_exhausted; the next message works', async () => {
    const model = `${platform.prefix}-exhaust`;
    const overloaded = { fault: { type: 'http', status: 529 } } as const;
    platform.fakeModel.setScript(model, [overloaded, overloaded, overloaded, { text: 'fine' }]);
    const session = await new WorkflowSession(
      platform,
      agentSnapshot({ model: { id: model } }),
      fastSettings(platform.prefix, { modelMaxAttempts: 3 }),
    ).start();
    await session.message('hello');
    await session.waitForTurnEnd(1);
    await session.message('again');
    const events = await session.waitForTurnEnd(2);
    const attempt = ['span.model_request_start', 'span.model_request_end error'];
    const retry = [
      'session.error model_overloaded_error retrying',
      'session.status_rescheduled',
      'session.status_running',
    ];
    expect(summary(events)).toEqual([
      'user.message',
      'session.status_running',
      ...attempt,
      ...retry,
      ...attempt,
      ...retry,
      ...attempt,
      'session.error model_overloaded_error exhausted',
      'session.status_idle retries_exhausted',
      ...normalTurn,
    ]);
    await session.terminate();
    await recordHistory(platform.client, session.handle.workflowId, 'model-exhausted');
  });

  it('a rejected request (400) is not retried: session.error, end of turn, the session stays usable', async () => {
    const model = `${platform.prefix}-reject`;
    platform.fakeModel.setScript(model, [
      { fault: { type: 'http', status: 400, message: 'bad request' } },
      { text: 'fine' },
    ]);
    const session = await new WorkflowSession(
      platform,
      agentSnapshot({ model: { id: model } }),
      fastSettings(platform.prefix),
    ).start();
    await session.message('hello');
    await session.waitForTurnEnd(1);
    await session.message('again');
    const events = await session.waitForTurnEnd(2);
    expect(summary(events)).toEqual([
      'user.message',
      'session.status_running',
      'span.model_request_start',
      'span.model_request_end error',
      'session.error model_request_failed_error exhausted',
      'session.status_idle end_turn',
      ...normalTurn,
    ]);
    expect(events.find((event) => event.type === 'session.error')).toMatchObject({
      error: { message: expect.stringContaining('bad request') },
    });
    await session.terminate();
    await recordHistory(platform.client, session.handle.workflowId, 'model-rejected');
  });
});
