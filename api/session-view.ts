// The session object as clients see it: the row (what was pinned), plus live state — from the workflow's query when
// it answers, else from the event journal (closed sessions, or Temporal briefly out of reach on a read).
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { SessionResourceRecord } from '../db/repositories/files.ts';
import {
  emptyTotals,
  lastEventOfType,
  readEventsOfTypes,
  usageBySession,
  type UsageTotals,
} from '../db/repositories/session-events.ts';
import { outcomeEvaluations, outcomeEventTypes, type OutcomeEvaluation } from '../domain/outcomes.ts';
import { sessionThreadIds } from '../db/repositories/session-threads.ts';
import { journalStatusOf, type SessionRow } from '../db/repositories/sessions.ts';
import type { SessionBudget, SessionStatus } from '../domain/events.ts';
import type { SessionStateView } from '../domain/session.ts';
import { isServiceUnavailable } from './errors.ts';
import { SessionWorkflowFailingError, type SessionDriver } from './session-driver.ts';

export interface LiveState {
  status: SessionStatus;
  usage: UsageTotals;
  /** The workflow's view, when it answered. */
  view?: SessionStateView;
  budget?: SessionBudget | null;
}

const queryTimeoutForReadsMs = 2_000;

export function liveFromView(view: SessionStateView): LiveState {
  return {
    status: view.status,
    view,
    budget: view.budget ?? null,
    usage: {
      input_tokens: view.usage.inputTokens,
      output_tokens: view.usage.outputTokens,
      cache_read_input_tokens: view.usage.cacheReadInputTokens,
      cache_creation_input_tokens: view.usage.cacheCreationInputTokens,
      model_requests: view.stats.modelCalls,
      active_seconds: view.stats.activeMs / 1000,
    },
  };
}

export async function liveFromJournal(pool: pg.Pool, row: SessionRow, journalStatus?: string): Promise<LiveState> {
  const status = (journalStatus ?? (await journalStatusOf(pool, row.id))) as SessionStatus;
  const threadIds = await sessionThreadIds(pool, row.id);
  const byLog = await usageBySession(pool, [row.id, ...threadIds]);
  const usage = byLog.get(row.id) ?? emptyTotals();
  // The threads' tokens count as the session's (as the workflow's view adds them); running time stays the session's.
  for (const threadId of threadIds) {
    const thread = byLog.get(threadId);
    if (!thread) continue;
    usage.input_tokens += thread.input_tokens;
    usage.output_tokens += thread.output_tokens;
    usage.cache_read_input_tokens += thread.cache_read_input_tokens;
    usage.cache_creation_input_tokens += thread.cache_creation_input_tokens;
  }
  // A closed session's budget: as its last session.usage reported it (budgeted sessions write one every turn).
  const lastUsage = await lastEventOfType(pool, row.id, 'session.usage');
  const budget = lastUsage?.type === 'session.usage' ? (lastUsage.budget ?? null) : null;
  return { status: row.archived_at ? 'terminated' : status, usage, budget };
}

/** Live state of one session: the workflow's answer if it is still open and answers in time, else the journal's. */
export async function liveState(
  pool: pg.Pool,
  driver: SessionDriver,
  row: SessionRow,
  log: FastifyBaseLogger,
): Promise<LiveState> {
  const journalStatus = await journalStatusOf(pool, row.id);
  if (row.archived_at || journalStatus === 'terminated') return liveFromJournal(pool, row, journalStatus);
  try {
    const view = await driver.state(row.id, queryTimeoutForReadsMs);
    if (view) return liveFromView(view);
  } catch (error) {
    if (error instanceof SessionWorkflowFailingError) {
      log.warn({ sessionId: row.id }, 'session workflow task failing; serving state from the journal');
    } else {
      if (!isServiceUnavailable(error)) throw error;
      log.warn({ sessionId: row.id }, 'session query unanswered; serving state from the journal');
    }
  }
  return liveFromJournal(pool, row, journalStatus);
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/** The session's outcomes, read back from its log (domain/outcomes.ts). */
export async function sessionOutcomes(pool: pg.Pool, sessionId: string): Promise<OutcomeEvaluation[]> {
  return outcomeEvaluations(await readEventsOfTypes(pool, sessionId, outcomeEventTypes));
}

export function sessionResponse(
  row: SessionRow,
  live: LiveState,
  resources: SessionResourceRecord[],
  outcomes: OutcomeEvaluation[] = [],
) {
  const end = row.archived_at ?? new Date();
  return {
    id: row.id,
    type: 'session' as const,
    status: live.status,
    title: row.title,
    agent: row.agent_snapshot,
    environment_id: row.environment_id,
    resources,
    vault_ids: row.vault_ids,
    metadata: row.metadata,
    stats: {
      active_seconds: round(live.usage.active_seconds),
      duration_seconds: round(Math.max(0, (end.getTime() - row.created_at.getTime()) / 1000)),
    },
    usage: {
      input_tokens: live.usage.input_tokens,
      output_tokens: live.usage.output_tokens,
      cache_read_input_tokens: live.usage.cache_read_input_tokens,
      cache_creation_input_tokens: live.usage.cache_creation_input_tokens,
      cache_creation: {
        ephemeral_5m_input_tokens: live.usage.cache_creation_input_tokens,
        ephemeral_1h_input_tokens: 0,
      },
    },
    budget: live.budget ?? null,
    outcome_evaluations: outcomes,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    archived_at: row.archived_at ? row.archived_at.toISOString() : null,
  };
}
