// The update's verdict on user events (workflows/user-event-validation.ts), as a pure function of what the session
// awaits: answers nobody awaits and answers given twice are refused, duplicates of received events pass, an ending
// session refuses everything.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { PendingAction } from '../../domain/session.ts';
import type { IncomingUserEvent } from '../../workflows/messages.ts';
import { validateUserEvents } from '../../workflows/user-event-validation.ts';

const awaited = new Map<string, PendingAction['kind']>([
  ['sevt_ask', 'confirmation'],
  ['sevt_custom', 'custom_tool_result'],
  ['sevt_runner', 'tool_result'],
]);
const context = { ending: false, received: new Set(['sevt_old']), awaiting: (id: string) => awaited.get(id) };
const confirm = (toolUseId: string, id?: string): IncomingUserEvent => ({
  type: 'user.tool_confirmation',
  tool_use_id: toolUseId,
  result: 'allow',
  ...(id ? { id } : {}),
});
const verdict = (events: IncomingUserEvent[], over: Partial<typeof context> = {}) => {
  try {
    validateUserEvents(events, { ...context, ...over });
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    return `${failure.type}: ${failure.message}`;
  }
};

describe('user event verdict', () => {
  it('accepts messages, interrupts and answers to what is awaited', () => {
    expect(
      verdict([
        { type: 'user.message', content: [{ type: 'text', text: 'hi' }] },
        { type: 'user.interrupt' },
        confirm('sevt_ask'),
        { type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_custom', content: [] },
        { type: 'user.tool_result', tool_use_id: 'sevt_runner', content: [] },
      ]),
    ).toBe('accepted');
  });

  it('refuses an answer nobody awaits, of the wrong kind, or given twice', () => {
    expect(verdict([confirm('sevt_nobody')])).toBe(
      'UserEventRejected: no tool use sevt_nobody is awaiting confirmation',
    );
    expect(verdict([confirm('sevt_custom')])).toBe(
      'UserEventRejected: no tool use sevt_custom is awaiting confirmation',
    );
    expect(verdict([{ type: 'user.custom_tool_result', custom_tool_use_id: 'sevt_ask', content: [] }])).toBe(
      'UserEventRejected: no custom tool use sevt_ask is awaiting a result',
    );
    expect(verdict([confirm('sevt_ask'), confirm('sevt_ask')])).toBe(
      'UserEventRejected: tool_use_id sevt_ask is answered twice in this request',
    );
  });

  it('lets a retried delivery through, and refuses everything once the session is ending', () => {
    expect(verdict([confirm('sevt_nobody', 'sevt_old')])).toBe('accepted');
    expect(verdict([{ type: 'user.interrupt' }], { ending: true })).toBe('SessionEnded: the session has ended');
  });
});
