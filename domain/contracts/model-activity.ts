// The model activity's contract (activities/model/activities.ts implements it; workflows/model-call.ts calls it).
// Its result is a ModelResponse (domain/model.ts).
import type { ModelSpec, ToolSpec } from '../model.ts';
import type { JournalBatch } from './journal-batch.ts';

export interface InvokeModelInput {
  sessionId: string;
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
}
