// What must hold after the chaos soak, checked from the platform's own records: each session's event log, the tool
// side effects read back from its sandbox, the usage ledger against the events, and nothing left behind.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type pg from 'pg';
import type { usageBySession } from '../../../db/repositories/session-events.ts';
import { readEvents } from '../../../db/repositories/session-events.ts';
import type { SessionEvent } from '../../../domain/events.ts';
import type { DrivenSession } from './sessions.ts';

export interface InvariantResult {
  checked: number;
  violations: string[];
}
export type InvariantReport = Record<string, InvariantResult>;

export class Invariants {
  readonly report: InvariantReport = {};
  /** Effects the read-back lacks in sessions whose sandbox was lost (restored from a snapshot taken before them). */
  lostEffects = 0;
  sandboxLostErrors = 0;
  stopReasons: Record<string, number> = {};
  /** Model requests that answered, per session (failed attempts are journaled too, with no tokens, and not billed). */
  private readonly answeredRequests = new Map<string, number>();
  /** Model requests journaled as failed, per session: the only ones the ledger may bill beyond the answered. */
  private readonly failedRequests = new Map<string, number>();

  check(name: string, ok: boolean, violation: () => string): void {
    const entry = (this.report[name] ??= { checked: 0, violations: [] });
    entry.checked += 1;
    if (!ok) entry.violations.push(violation());
  }

  get violations(): string[] {
    return Object.entries(this.report).flatMap(([name, entry]) => entry.violations.map((text) => `${name}: ${text}`));
  }

  async checkSession(pool: pg.Pool, session: DrivenSession): Promise<void> {
    const id = session.id;
    this.check('every turn ended', session.stuck === undefined, () => `${id}: ${session.stuck}`);
    const entries = await readEvents(pool, id);
    const log = entries.map((entry) => entry.event);
    this.check(
      'event log gap-free',
      entries.every((entry, index) => entry.seq === index + 1),
      () => `${id}: seqs ${entries.map((entry) => entry.seq).join(',')}`,
    );
    this.check(
      'event ids unique',
      new Set(log.map((event) => event.id)).size === log.length,
      () => `${id}: duplicate event ids`,
    );
    const statuses = log.filter((event) => event.type.startsWith('session.status_'));
    const last = statuses.at(-1);
    this.check('session ends idle', last?.type === 'session.status_idle', () => `${id}: last status ${last?.type}`);
    for (const event of log) {
      if (event.type === 'session.status_idle') {
        this.stopReasons[event.stop_reason.type] = (this.stopReasons[event.stop_reason.type] ?? 0) + 1;
      }
    }
    const messages = log.filter((event) => event.type === 'user.message');
    this.check(
      'each message once',
      messages.length === session.turns,
      () => `${id}: ${messages.length} user.message for ${session.turns} turns sent`,
    );
    const ends = log.filter((event) => event.type === 'span.model_request_end');
    this.answeredRequests.set(id, ends.filter((event) => !event.is_error).length);
    this.failedRequests.set(id, ends.filter((event) => event.is_error).length);
    this.checkToolPairs(id, log);
    this.checkEffects(session, log);
  }

  private checkToolPairs(id: string, log: SessionEvent[]): void {
    const results = new Map<string, number>();
    for (const event of log) {
      if (event.type === 'agent.tool_result') results.set(event.tool_use_id, (results.get(event.tool_use_id) ?? 0) + 1);
    }
    for (const event of log) {
      if (event.type !== 'agent.tool_use') continue;
      const count = results.get(event.id) ?? 0;
      this.check('one result per tool call', count === 1, () => `${id}: tool call ${event.id} has ${count} results`);
    }
  }

  /**
   * The read-back turn's output (the last `cat` of the effects file): every token at most once; a missing one only
   * where a sandbox was lost between that token's tool call and the next turn (its turn's snapshot not yet taken). A session whose
   * read-back never ran (its driver gave up on a stuck turn) is a violation of its own, not a loss of every effect.
   */
  private checkEffects(session: DrivenSession, log: SessionEvent[]): void {
    const lostAt = log.flatMap((event, index) =>
      event.type === 'session.error' && event.error.type === 'sandbox_lost_error' ? [index] : [],
    );
    this.sandboxLostErrors += lostAt.length;
    const command = (event: SessionEvent) =>
      event.type === 'agent.tool_use' && typeof event.input.command === 'string' ? event.input.command : '';
    const readBackCall = log.findLast((event) => command(event).startsWith('cat /workspace/effects.txt'));
    const readBack = log.find((event) => event.type === 'agent.tool_result' && event.tool_use_id === readBackCall?.id);
    this.check('effects read back', readBack !== undefined, () => `${session.id}: no read-back turn ran`);
    if (readBack?.type !== 'agent.tool_result') return;
    const text = (readBack.content ?? []).map((block) => block.text).join('');
    const lines = text.split('\n').filter((line) => line.startsWith(session.id));
    const counts = new Map<string, number>();
    for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const token of session.tokens) {
      const count = counts.get(token) ?? 0;
      this.check('each tool effect at most once', count <= 1, () => `${token} applied ${count} times`);
      if (count > 0) continue;
      // Between the call and the next message: lost before its turn's snapshot was taken.
      const calledAt = log.findIndex((event) => command(event).includes(token));
      const nextTurn = log.findIndex((event, index) => index > calledAt && event.type === 'user.message');
      this.check(
        "an effect is missing only where its sandbox was lost before its turn's snapshot",
        lostAt.some((index) => index > calledAt && (nextTurn < 0 || index < nextTurn)),
        () => `${token} missing (tool call at ${calledAt}, sandbox losses at ${lostAt.join(',')})`,
      );
      this.lostEffects += 1;
    }
    const unknown = [...counts.keys()].filter((line) => !session.tokens.includes(line));
    this.check('no effect from nowhere', unknown.length === 0, () => `${session.id}: ${unknown.join(', ')}`);
  }

  /** Tokens the ledger billed beyond what the events show: calls the provider answered whose answer was lost. */
  ledgerSurplusTokens = 0;
  /** Answered calls billed whose answer was lost (each also a failed request in the session's log). */
  ledgerSurplusRequests = 0;

  /**
   * The ledger bills every answered model call as it happens, under a key per call (the call's message id; the
   * activity is never retried by Temporal, the workflow's own retry draws a new id): it holds what the events show,
   * plus the calls the provider answered whose result never reached the session (the model worker or Temporal died
   * before the activity completed; the session journaled that request as failed and called the model again). So:
   * ledger tokens at least the events', ledger requests at least the answered ones, and every request beyond them one
   * of the failed requests in the log; extra tokens only with extra requests.
   */
  checkLedger(ledger: Array<Record<string, number | string>>, fromEvents: Awaited<ReturnType<typeof usageBySession>>) {
    for (const [sessionId, expected] of fromEvents) {
      const row = ledger.find((entry) => entry.session_id === sessionId);
      const answered = this.answeredRequests.get(sessionId) ?? 0;
      const extraRequests = Number(row?.model_requests) - answered;
      const extraTokens =
        Number(row?.input_tokens) - expected.input_tokens + Number(row?.output_tokens) - expected.output_tokens;
      const covers =
        row !== undefined &&
        Number(row.input_tokens) >= expected.input_tokens &&
        Number(row.output_tokens) >= expected.output_tokens &&
        extraRequests >= 0 &&
        extraRequests <= (this.failedRequests.get(sessionId) ?? 0) &&
        (extraTokens === 0 || extraRequests > 0);
      this.check(
        'usage ledger covers the events',
        covers,
        () =>
          `${sessionId}: ledger ${JSON.stringify(row)} events ${JSON.stringify(expected)} answered ${answered} ` +
          `failed ${this.failedRequests.get(sessionId)}`,
      );
      if (row) {
        this.ledgerSurplusTokens += extraTokens;
        this.ledgerSurplusRequests += extraRequests;
      }
    }
  }

  async checkNoContainers(docker: Docker, prefix: string): Promise<void> {
    const left = await docker.listContainers({ all: true });
    this.check('no container left behind', left.length === 0, () => `${left.length} containers (${prefix})`);
  }

  /** No worker met a workflow task that failed on replay (a nondeterminism error leaves its session stuck). */
  checkWorkerLogs(logDir: string): void {
    for (const file of readdirSync(logDir).filter((name) => name.endsWith('.log'))) {
      const lines = readFileSync(join(logDir, file), 'utf8')
        .split('\n')
        .filter((line) => line.includes('TMPRL1100'));
      this.check('no nondeterminism in any worker', lines.length === 0, () => `${file}: ${lines[0]?.slice(0, 400)}`);
    }
  }

  /** No process still carries this run's task-queue prefix in its environment once the stack has stopped. */
  checkNoProcesses(prefix: string): void {
    const needle = `AGENTS_TASK_QUEUE_PREFIX=${prefix}\0`;
    const left: string[] = [];
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      if (Number(pid) === process.pid) continue;
      try {
        if (`${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(needle)) left.push(pid);
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    this.check('no process left behind', left.length === 0, () => `pids ${left.join(', ')}`);
  }
}
