// The model activity's contract (activities/model/activities.ts implements it; workflows/model-call.ts calls it).
// Its result is a ModelResponse (domain/model.ts).
import type { ModelMessage, ModelSpec, ModelUsage, ToolSpec } from '../model.ts';
import type { JournalBatch } from './journal-batch.ts';

export interface InvokeModelInput {
  /** Whose event log the call reads and writes: the session's, or a session thread's (its sthr_ id). */
  sessionId: string;
  /** A session thread's call: the session its usage is metered against (default `sessionId`). */
  meteredSessionId?: string;
  /** The transcript is the session's events up to and including this seq. */
  throughSeq: number;
  /** The session's last events, not yet in the journal: written here first (idempotently), then read back. */
  unwrittenEvents?: JournalBatch;
  /** The id the resulting `agent.message` event will have; live deltas refer to it. */
  messageEventId: string;
  /** The id the resulting `agent.thinking` event will have; live thinking deltas refer to it (messageEventId if unset). */
  thinkingEventId?: string;
  model: ModelSpec;
  system?: string;
  tools: ToolSpec[];
  maxOutputTokens: number;
  /** The session's tenant and vaults: where a tenant endpoint's own key is looked up (ids only, never secrets). */
  tenantId?: string;
  vaultIds?: string[];
  /** The session's context was compacted: the transcript is this summary, then the events after it. */
  context?: ContextRef;
}

/** A compacted context: the summary that stands for every event through `afterSeq`. */
export interface ContextRef {
  summaryId: string;
  afterSeq: number;
}

interface SideCallInput {
  sessionId: string;
  model: ModelSpec;
  tenantId?: string;
  vaultIds?: string[];
  maxOutputTokens: number;
}

/** The advisor's call (workflows/advisor.ts): the primary thread's question, answered by the advisor model. */
export interface ConsultAdvisorInput extends SideCallInput {
  question: string;
  /** The `consult_advisor` tool use's id (the usage-ledger key). */
  toolUseId: string;
}

export interface ConsultAdvisorResult {
  text: string;
  usage: ModelUsage;
}

/** The outcome grader's call: the work from the `user.define_outcome` event (at `outcomeSeq`) through `throughSeq`. */
export interface EvaluateOutcomeInput extends SideCallInput {
  outcomeSeq: number;
  throughSeq: number;
  /** The evaluation's `span.outcome_evaluation_start` id (the usage-ledger key). */
  evaluationId: string;
}

export interface EvaluateOutcomeResult {
  result: 'satisfied' | 'needs_revision' | 'failed';
  explanation: string;
  usage: ModelUsage;
}

/** The summariser's call: older events (after the current summary, if any) summarised so the rest fits. */
export interface CompactContextInput extends SideCallInput {
  context?: ContextRef;
  throughSeq: number;
  /** How many tokens (estimated) of the latest events to keep verbatim. */
  keepTokens: number;
  /** The new summary's id, drawn by the workflow (a retried call stores one summary). */
  summaryId: string;
}

export type CompactContextResult =
  | { kind: 'compacted'; context: ContextRef; estimatedTokens: number; usage: ModelUsage }
  /** Nothing older than the latest turn is left to summarise. */
  | { kind: 'no_room' };

/**
 * A model call outside any session (a dream): the messages travel in the input, no deltas are published, and the
 * usage is metered under `meterAs` (the dream's id) with `callId` as the ledger entry's key.
 */
export interface InvokeModelOnMessagesInput {
  meterAs: string;
  callId: string;
  tenantId: string;
  model: ModelSpec;
  system?: string;
  messages: ModelMessage[];
  tools: ToolSpec[];
  maxOutputTokens: number;
}
