// One readable line per journaled event, for tests that compare whole event sequences: the type plus what tells events
// of that type apart in a scripted session (error kind and retry status, stop reason, span outcome, message text).
import type { SessionEvent } from '../../domain/events.ts';

export function eventLine(event: SessionEvent): string {
  switch (event.type) {
    case 'session.error':
      return `session.error ${event.error.type} ${event.error.retry_status.type}`;
    case 'session.status_idle':
      return `session.status_idle ${event.stop_reason.type}`;
    case 'span.model_request_end':
      return `span.model_request_end ${event.is_error ? 'error' : 'ok'}`;
    case 'agent.message':
      return `agent.message ${event.content.map((block) => block.text).join('')}`;
    default:
      return event.type;
  }
}

/** The text of every tool result, in order (trimmed), for tests that check what the sandbox said. */
export const toolResultTexts = (events: SessionEvent[]): string[] =>
  events.flatMap((event) =>
    event.type === 'agent.tool_result'
      ? [
          (event.content ?? [])
            .map((block) => block.text)
            .join('')
            .trim(),
        ]
      : [],
  );
