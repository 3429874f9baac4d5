// Codex's notifications as session events (activities/sandbox/codex-harness/event-mapper.ts), on sequences seen from
// `codex app-server` 0.171: a command then a reply (usage only after the command ran), an approved command, and an
// interrupt during which Codex restates the thread's usage.
import { expect, it } from 'vitest';
import { CodexEventMapper, commandOf } from '../../activities/sandbox/codex-harness/event-mapper.ts';

const usage = (total: number, input: number, output: number, cached = 0) => ({
  tokenUsage: {
    total: { totalTokens: total },
    last: { totalTokens: input + output, inputTokens: input, cachedInputTokens: cached, outputTokens: output },
  },
});
const command = (id: string, extra: Record<string, unknown> = {}) => ({
  item: { type: 'commandExecution', id, command: `/bin/bash -lc 'echo it'\\''s > /workspace/out.txt'`, ...extra },
});
const reply = (id: string, text: string) => ({ item: { type: 'agentMessage', id, text } });

it('maps a command and a reply in the native order, with each request’s usage', () => {
  const mapper = new CodexEventMapper('gpt-test');
  mapper.push('item/started', command('call_1'));
  mapper.push('item/completed', command('call_1', { status: 'completed', aggregatedOutput: 'done\n', exitCode: 0 }));
  mapper.push('thread/tokenUsage/updated', usage(110, 100, 10, 40));
  mapper.push('item/started', reply('msg_1', ''));
  mapper.push('item/completed', reply('msg_1', 'Built.'));
  mapper.push('thread/tokenUsage/updated', usage(230, 115, 5));
  const { events, usage: total } = mapper.take();
  expect(events.map((event) => event.type)).toEqual([
    'span.model_request_start',
    'span.model_request_end',
    'agent.tool_use',
    'agent.tool_result',
    'span.model_request_start',
    'span.model_request_end',
    'agent.message',
  ]);
  expect(events[1]).toMatchObject({
    model_usage: { input_tokens: 60, cache_read_input_tokens: 40, output_tokens: 10 },
  });
  expect(events[2]).toMatchObject({ name: 'bash', input: { command: `echo it's > /workspace/out.txt` } });
  expect(events[3]).toMatchObject({ tool_use_id: events[2]!.id, is_error: false });
  expect(total).toEqual({ inputTokens: 175, outputTokens: 15, cacheReadInputTokens: 40, cacheCreationInputTokens: 0 });
});

it('leaves an asked command’s use to the workflow and points its result at the same event', () => {
  const mapper = new CodexEventMapper('gpt-test');
  mapper.push('item/started', command('call_2'));
  const eventId = mapper.eventIdFor('call_2');
  mapper.markAsked('call_2');
  expect(mapper.take().events.map((event) => event.type)).toEqual([
    'span.model_request_start',
    'span.model_request_end',
  ]);
  mapper.push('item/completed', command('call_2', { status: 'declined', aggregatedOutput: null }));
  const { events } = mapper.take();
  expect(events).toEqual([
    expect.objectContaining({ type: 'agent.tool_result', tool_use_id: eventId, is_error: true }),
  ]);
});

it('ends an interrupted request as an error span once, ignoring the restated usage', () => {
  const mapper = new CodexEventMapper('gpt-test');
  mapper.push('thread/tokenUsage/updated', usage(500, 400, 100));
  mapper.take();
  mapper.push('item/started', reply('msg_2', ''));
  mapper.push('thread/tokenUsage/updated', usage(500, 400, 100)); // the interrupt's restatement
  mapper.interruptedRequest();
  const { events, usage: total } = mapper.take();
  expect(events.map((event) => event.type)).toEqual(['span.model_request_start', 'span.model_request_end']);
  expect(events[1]).toMatchObject({ is_error: true });
  expect(total.inputTokens).toBe(0);
  expect(commandOf({ command: 'ls' })).toBe('ls');
});
