// A thread's turn starts with the message another thread sent it (agent.thread_message_received): the model must see
// it. On the sending side the reply arrives inside the delegating call, whose tool result already carries it.
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../domain/events.ts';
import { buildTranscript } from '../../domain/transcript.ts';

const at = { processed_at: '2026-11-29T00:00:00.000Z' };
const text = (value: string) => [{ type: 'text' as const, text: value }];

describe('buildTranscript and thread messages', () => {
  it("gives a thread's model the message that started its turn", () => {
    const events: SessionEvent[] = [
      {
        ...at,
        id: 'e1',
        type: 'agent.thread_message_received',
        content: text('Do task A.'),
        from_session_thread_id: 't0',
      },
    ];
    expect(buildTranscript(events)).toEqual([{ role: 'user', content: text('Do task A.') }]);
  });

  it("leaves a reply received inside an open delegating call to that call's tool result", () => {
    const events: SessionEvent[] = [
      { ...at, id: 'u1', type: 'user.message', content: text('Go.') },
      { ...at, id: 'c1', type: 'agent.tool_use', name: 'delegate', input: {} },
      { ...at, id: 'r1', type: 'agent.thread_message_received', content: text('done'), from_session_thread_id: 't1' },
      { ...at, id: 'x1', type: 'agent.tool_result', tool_use_id: 'c1', content: text('t1 replied: done') },
    ];
    const messages = buildTranscript(events);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(messages)).not.toContain('"text":"done"');
  });
});
