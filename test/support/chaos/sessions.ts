// The chaos soak's load: sessions driven through the official SDK as a careful client would drive them through
// outages — every message sent with an Idempotency-Key and retried with the same key until the API answers, then the
// turn awaited in the event log. Each turn appends its own token to a file in the sandbox, so the end can count every
// tool side effect.
import Anthropic from '@anthropic-ai/sdk';
import type pg from 'pg';
import { readEvents } from '../../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../../domain/events.ts';

export interface DrivenSession {
  id: string;
  /** Turns sent and finished, in order; the last one reads the effects file back. */
  turns: number;
  /** Tokens appended by the turns (one per turn, before the read-back). */
  tokens: string[];
  /** Set when a turn did not end within its deadline. */
  stuck?: string;
  /** Turns that took longer than the driver's `slowMs` (index and milliseconds to idle). */
  slowTurns: Array<{ turn: number; ms: number }>;
}

/** Called once when a turn passes `slowMs` and again when it passes its deadline (to keep diagnostics). */
export type SlowTurnHook = (session: DrivenSession, turn: number, label: 'slow' | 'stuck') => Promise<void>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether an SDK failure is one a client retries (the API or what is behind it was away). */
function retryable(error: unknown): boolean {
  if (error instanceof Anthropic.APIConnectionError) return true;
  if (error instanceof Anthropic.APIError)
    return error.status === undefined || error.status >= 500 || error.status === 409 || error.status === 429;
  return false;
}

/** Runs `call` until it succeeds or gives up at `deadline`; retryable failures wait and try again. */
export async function persist<T>(what: string, deadline: number, call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!retryable(error) || Date.now() > deadline) throw new Error(`${what}: ${String(error)}`, { cause: error });
      await pause(500);
    }
  }
}

export async function journal(pool: pg.Pool, sessionId: string): Promise<SessionEvent[]> {
  return (await readEvents(pool, sessionId)).map((entry) => entry.event);
}

const idles = (events: SessionEvent[]) => events.filter((event) => event.type === 'session.status_idle').length;

export class SessionDriver {
  private readonly client: Anthropic;
  private readonly pool: pg.Pool;
  private readonly turnTimeoutMs: number;
  private readonly slowMs: number;
  private readonly onSlow: SlowTurnHook;

  constructor(client: Anthropic, pool: pg.Pool, turnTimeoutMs: number, slowMs: number, onSlow: SlowTurnHook) {
    this.client = client;
    this.pool = pool;
    this.turnTimeoutMs = turnTimeoutMs;
    this.slowMs = slowMs;
    this.onSlow = onSlow;
  }

  async create(agentId: string, environmentId: string, index: number): Promise<DrivenSession> {
    const deadline = Date.now() + this.turnTimeoutMs;
    const session = await persist('create a session', deadline, () =>
      this.client.beta.sessions.create(
        { agent: agentId, environment_id: environmentId, title: `chaos ${index}` },
        { headers: { 'Idempotency-Key': `chaos-session-${index}-${agentId}` }, timeout: 15_000 },
      ),
    );
    return { id: session.id, turns: 0, tokens: [], slowTurns: [] };
  }

  /** Sends one turn's message (retried under one key) and waits until the session is idle after it. */
  async turn(session: DrivenSession, command: string): Promise<void> {
    const index = session.turns + 1;
    const started = Date.now();
    const deadline = started + this.turnTimeoutMs;
    let slow = false;
    await persist(`send turn ${index} of ${session.id}`, deadline, () =>
      this.client.beta.sessions.events.send(
        session.id,
        { events: [{ type: 'user.message', content: [{ type: 'text', text: `run: ${command}` }] }] },
        { headers: { 'Idempotency-Key': `${session.id}-turn-${index}` }, timeout: 15_000 },
      ),
    );
    session.turns = index;
    for (;;) {
      const events = await journal(this.pool, session.id).catch(() => undefined);
      if (events && idles(events) >= index) {
        if (slow) session.slowTurns.push({ turn: index, ms: Date.now() - started });
        return;
      }
      if (!slow && Date.now() - started > this.slowMs) {
        slow = true;
        await this.onSlow(session, index, 'slow');
      }
      if (Date.now() > deadline) {
        session.stuck = `turn ${index} did not end within ${this.turnTimeoutMs} ms`;
        await this.onSlow(session, index, 'stuck');
        throw new Error(session.stuck);
      }
      await pause(250);
    }
  }

  /** Turns that append a token each until `stop()` says so, then one turn reading the file back. */
  async drive(session: DrivenSession, stop: () => boolean): Promise<void> {
    while (!stop()) {
      const token = `${session.id}-t${session.turns + 1}`;
      await this.turn(session, `echo ${token} >> /workspace/effects.txt`);
      session.tokens.push(token);
    }
    await this.turn(session, 'cat /workspace/effects.txt');
  }
}
