// Child sessions in a trace: a session thread's first message is the `message` of the `delegate` call that started
// it; a (retired) sub-agent's first user message is the `prompt` of its tool call.
import type { SessionEvent } from '../events.ts';
import type { SessionTrace } from './schema.ts';
import { textOf } from './time-and-text.ts';

/** The first message of a child session (a user's, or a thread's from its coordinator): how it is matched to its call. */
export function firstUserText(events: readonly SessionEvent[]): string | undefined {
  const first = events.find((event) => event.type === 'user.message' || event.type === 'agent.thread_message_received');
  return first?.type === 'user.message' || first?.type === 'agent.thread_message_received'
    ? textOf(first.content)
    : undefined;
}

/**
 * Attaches child sessions to the tool spans that started them: a child's first message is the call's `prompt` or
 * `message` input (or its JSON). Returns the children no tool span claimed.
 */
export function attachSubAgents(
  trace: SessionTrace,
  children: readonly { prompt: string | undefined; trace: SessionTrace }[],
): SessionTrace[] {
  const unclaimed = [...children];
  const spans = [...trace.turns.flatMap((turn) => turn.spans), ...trace.between_turns];
  for (const span of spans) {
    if (span.kind !== 'tool' || span.tool_kind !== 'tool') continue;
    const { prompt: given, message } = span.input;
    const prompt =
      typeof given === 'string' ? given : typeof message === 'string' ? message : JSON.stringify(span.input);
    const index = unclaimed.findIndex((child) => child.prompt === prompt);
    if (index < 0) continue;
    span.sub_agent = unclaimed[index]?.trace ?? null;
    unclaimed.splice(index, 1);
  }
  return unclaimed.map((child) => child.trace);
}
