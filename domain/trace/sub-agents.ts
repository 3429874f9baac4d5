// Sub-agent sessions in a trace: a sub-agent's first user message is the prompt of the tool call that started it.
import type { SessionEvent } from '../events.ts';
import type { SessionTrace } from './schema.ts';
import { textOf } from './time-and-text.ts';

/** The first user message of a session: how a sub-agent's session is matched to the tool call that started it. */
export function firstUserText(events: readonly SessionEvent[]): string | undefined {
  const first = events.find((event) => event.type === 'user.message');
  return first?.type === 'user.message' ? textOf(first.content) : undefined;
}

/**
 * Attaches sub-agent sessions to the tool spans that started them: a sub-agent's first user message is the tool's
 * `prompt` input (or its JSON). Returns the children no tool span claimed.
 */
export function attachSubAgents(
  trace: SessionTrace,
  children: readonly { prompt: string | undefined; trace: SessionTrace }[],
): SessionTrace[] {
  const unclaimed = [...children];
  const spans = [...trace.turns.flatMap((turn) => turn.spans), ...trace.between_turns];
  for (const span of spans) {
    if (span.kind !== 'tool' || span.tool_kind !== 'tool') continue;
    const prompt = typeof span.input.prompt === 'string' ? span.input.prompt : JSON.stringify(span.input);
    const index = unclaimed.findIndex((child) => child.prompt === prompt);
    if (index < 0) continue;
    span.sub_agent = unclaimed[index]?.trace ?? null;
    unclaimed.splice(index, 1);
  }
  return unclaimed.map((child) => child.trace);
}
