// The in-sandbox harnesses' live sessions (Claude Code, Codex) on one sandbox worker: one process per session,
// replaced when its container changed or it died; a step reads the harness until it pauses; an interrupt while no
// step runs reads the turn's end itself; release stops the process and revokes the session's gateway tokens.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { HarnessEvent, HarnessPause } from '../../domain/contracts/claude-harness.ts';
import type { ModelUsage } from '../../domain/model.ts';
import { revokeSessionGatewayTokens } from '../../db/repositories/model-gateway-tokens.ts';

/** What the registry needs of a harness's live session. */
export interface LiveHarnessSession {
  readonly containerId: string;
  readonly isClosed: boolean;
  readonly mapper: { take(): { events: HarnessEvent[]; usage: ModelUsage } };
  untilPause(onProgress: () => void): Promise<HarnessPause>;
  interrupt(): Promise<void>;
  close(): void;
}

export class HarnessSessions<S extends LiveHarnessSession> {
  private readonly live = new Map<string, S>();
  private readonly stepping = new Set<string>();
  private readonly pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** The session's live process, unless it died or its container is not the lease's any more (then it is closed). */
  current(sessionId: string, containerId: string): S | undefined {
    const session = this.live.get(sessionId);
    if (session && (session.isClosed || session.containerId !== containerId)) {
      session.close();
      return undefined;
    }
    return session;
  }

  add(sessionId: string, session: S): void {
    this.live.set(sessionId, session);
  }

  /** Reads the harness until it pauses (the turn ended, or it waits for the client): the step's events and usage. */
  async untilPause(sessionId: string, session: S) {
    const context = Context.current();
    this.stepping.add(sessionId);
    try {
      const pause = await session.untilPause(() => context.heartbeat());
      if (session.isClosed) this.live.delete(sessionId);
      return { ...session.mapper.take(), pause };
    } finally {
      this.stepping.delete(sessionId);
    }
  }

  async interrupt(sessionId: string): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session) return;
    await session.interrupt();
    if (this.stepping.has(sessionId)) return; // the running step reads the turn's end
    // Interrupted while waiting for the client: the turn's end is read here, and what it says dropped (the native
    // loop records nothing more for an abandoned wait).
    const context = Context.current();
    await Promise.race([
      session.untilPause(() => context.heartbeat()),
      new Promise((resolve) => setTimeout(resolve, 30_000)),
    ]);
    session.mapper.take();
  }

  /** The session's sandbox is going: its harness process stops and its gateway tokens stop working. */
  async release(sessionId: string): Promise<void> {
    this.live.get(sessionId)?.close();
    this.live.delete(sessionId);
    await revokeSessionGatewayTokens(this.pool, sessionId);
  }
}
