// Live token deltas: batched and sent through PostgreSQL NOTIFY to whoever streams the session (the API's SSE).
// Never persisted, never one message per token: the first delta goes at once (time to first token), later ones are
// coalesced for `intervalMs`. With `after`, nothing is sent before that promise resolves, and nothing at all if it
// rejects (the model activity's write of the turn's events: a delta never reaches a stream ahead of them).
import type pg from 'pg';
import type { DeltaMessage } from '../../domain/contracts/delta-message.ts';
import { publishDelta } from '../../db/repositories/session-events.ts';
import type { ModelStreamPart } from '../../domain/model.ts';

const maxNotifyBytes = 7_000; // NOTIFY payloads must stay under 8000 bytes

export class DeltaPublisher {
  private buffer: ModelStreamPart[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sentAny = false;
  private chain: Promise<void> = Promise.resolve();

  private readonly pool: pg.Pool;
  private readonly sessionId: string;
  private readonly eventId: string;
  private readonly thinkingEventId: string;
  private readonly intervalMs: number;
  private readonly after: Promise<unknown>;

  constructor(
    pool: pg.Pool,
    sessionId: string,
    eventId: string,
    options: { thinkingEventId?: string; intervalMs?: number; after?: Promise<unknown> } = {},
  ) {
    this.pool = pool;
    this.sessionId = sessionId;
    this.eventId = eventId;
    this.thinkingEventId = options.thinkingEventId ?? eventId;
    this.intervalMs = options.intervalMs ?? 25;
    this.after = options.after ?? Promise.resolve();
  }

  push(part: ModelStreamPart): void {
    this.buffer.push(part);
    if (!this.sentAny) {
      this.sentAny = true;
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
    }
  }

  /** Sends what is buffered; resolves when every send so far has finished. */
  async close(): Promise<void> {
    this.flush();
    await this.chain;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const parts = this.buffer;
    this.buffer = [];
    const messages = coalesce(parts, this.sessionId, this.eventId, this.thinkingEventId);
    if (messages.length === 0) return;
    this.chain = this.chain
      .then(() => this.after)
      .then(async () => {
        for (const message of messages) {
          await publishDelta(this.pool, message);
        }
      })
      .catch(() => undefined); // deltas are best effort; the journaled agent.message is what counts
  }
}

/** Joins consecutive parts of the same block into one message, split so each NOTIFY fits. */
function coalesce(
  parts: ModelStreamPart[],
  sessionId: string,
  eventId: string,
  thinkingEventId: string,
): DeltaMessage[] {
  const messages: DeltaMessage[] = [];
  for (const part of parts) {
    const eventType = part.type === 'thinking_delta' ? 'agent.thinking' : 'agent.message';
    const last = messages.at(-1);
    if (last && last.index === part.index && last.event_type === eventType && last.text.length < maxNotifyBytes / 2) {
      last.text += part.text;
    } else {
      messages.push({
        session_id: sessionId,
        event_id: eventType === 'agent.thinking' ? thinkingEventId : eventId,
        event_type: eventType,
        index: part.index,
        text: part.text,
      });
    }
  }
  return messages.flatMap((message) => splitText(message));
}

function splitText(message: DeltaMessage): DeltaMessage[] {
  const limit = maxNotifyBytes / 4; // worst case 4 bytes per UTF-16 unit after JSON escaping
  if (message.text.length <= limit) return [message];
  const pieces: DeltaMessage[] = [];
  for (let offset = 0; offset < message.text.length; offset += limit) {
    pieces.push({ ...message, text: message.text.slice(offset, offset + limit) });
  }
  return pieces;
}
