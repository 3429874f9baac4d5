// Context compaction in the loop: before each model call, the next request's size is estimated (the last request and
// answer as the provider counted them, plus what the journal has taken since); past the threshold share of the model's
// context window, the summariser activity replaces the older events by a stored summary, and later requests carry
// that summary and the recent events only. The event log keeps everything; history carries the summary's id only.
import { log, patched, uuid4 } from '@temporalio/workflow';
import { contextWindowOf, estimateTokens, maxCompactionsInARow } from '../domain/compaction.ts';
import type { ContextRef } from '../domain/contracts/model-activity.ts';
import { makeId } from '../domain/ids.ts';
import { modelUsageWire, type ModelSpec, type ModelUsage } from '../domain/model.ts';
import { defaultLimits } from '../domain/agent.ts';
import type { CarriedContext, SessionSettings, SessionWorkflowInput } from '../domain/session.ts';
import { modelSideActivities } from './activity-proxies.ts';
import type { EventJournal } from './event-journal.ts';

/** Sessions from this patch on compact their context; histories before it never called the summariser. */
export const compactionPatch = 'context-compaction';
/** From this patch on the summariser's request is journaled as a model request with its usage (before, only live). */
export const compactionUsagePatch = 'compaction-usage-counted';

export const defaultCompactionThreshold = 0.8;
/** After compaction the kept recent events fill at most this share of the threshold (the summary takes the rest). */
const keepShareOfThreshold = 0.5;

export interface CompactionCall {
  sessionId: string;
  /** A session thread's call: the session its usage is metered against. */
  meteredSessionId?: string;
  model: ModelSpec;
  tenantId?: string;
  vaultIds?: string[];
  maxOutputTokens: number;
}

export interface CompactionHost {
  call: CompactionCall;
  addUsage: (usage: ModelUsage) => void;
}

export class ContextCompactor {
  private ref: ContextRef | undefined;
  private requestTokens: number;
  private charsAtRequest = 0;
  private inARow = 0;
  private readonly settings: SessionSettings;
  private readonly journal: EventJournal;

  constructor(settings: SessionSettings, journal: EventJournal, carried: CarriedContext | undefined) {
    this.settings = settings;
    this.journal = journal;
    this.ref = carried?.ref;
    this.requestTokens = carried?.requestTokens ?? 0;
  }

  /** What the next model request is to carry instead of the whole log (undefined: the whole log). */
  get context(): ContextRef | undefined {
    return this.ref;
  }

  get carried(): CarriedContext | undefined {
    return this.ref || this.requestTokens > 0 ? { ref: this.ref, requestTokens: this.requestTokens } : undefined;
  }

  /** A model answered: its request and answer, as the provider counted them, are the next estimate's base. */
  noteResponse(usage: ModelUsage): void {
    this.requestTokens =
      usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens + usage.outputTokens;
    this.charsAtRequest = this.journal.emittedChars;
    this.inARow = 0;
  }

  private threshold(modelId: string): number {
    const window = this.settings.contextWindowTokens ?? contextWindowOf(modelId);
    return window * (this.settings.compactionThreshold ?? defaultCompactionThreshold);
  }

  private estimate(): number {
    return this.requestTokens + estimateTokens(this.journal.emittedChars - this.charsAtRequest);
  }

  /**
   * Compacts until the next request fits under the threshold. `limit` when it cannot: nothing older is left to
   * summarise, or it compacted too often in a row (the caller reports compaction_limit_reached_error).
   */
  makeRoom(host: CompactionHost): Promise<'ok' | 'limit'> | 'ok' {
    // Synchronous when there is room: no await is added to the loop of sessions that never compact.
    return this.estimate() > this.threshold(host.call.model.id) ? this.compact(host.call, host.addUsage) : 'ok';
  }

  private async compact(call: CompactionCall, addUsage: (usage: ModelUsage) => void): Promise<'ok' | 'limit'> {
    const threshold = this.threshold(call.model.id);
    while (this.estimate() > threshold) {
      if (!patched(compactionPatch)) return 'ok';
      if (this.inARow >= maxCompactionsInARow) return this.limitReached();
      this.inARow++;
      await this.journal.flushed(); // the summariser reads the log
      let result;
      try {
        result = await modelSideActivities(this.settings).compactContext({
          ...call,
          ...(this.ref ? { context: this.ref } : {}),
          throughSeq: this.journal.lastSeq,
          keepTokens: Math.floor(threshold * keepShareOfThreshold),
          summaryId: makeId('contextSummary', uuid4()),
        });
      } catch (error) {
        // The summariser failed after its retries: the request goes out whole (the provider may still take it).
        log.warn('context compaction failed', { error: String(error) });
        return 'ok';
      }
      if (result.kind === 'no_room') return this.limitReached();
      addUsage(result.usage);
      if (patched(compactionUsagePatch)) this.journalRequest(call.model.id, result.usage);
      this.ref = result.context;
      this.requestTokens = result.estimatedTokens;
      this.charsAtRequest = this.journal.emittedChars;
      this.journal.emit({ type: 'agent.thread_context_compacted' });
      this.charsAtRequest = this.journal.emittedChars;
    }
    return 'ok';
  }

  /**
   * The summariser's request on the log with its usage, so a closed session's usage (read from the log) counts its
   * tokens as the live view does. Both span events are written once it answered (a request that found nothing to
   * summarise made no call).
   */
  private journalRequest(model: string, usage: ModelUsage): void {
    const start = this.journal.emit({ type: 'span.model_request_start', model, summary: 'context compaction' });
    this.journal.emit({
      type: 'span.model_request_end',
      model_request_start_id: start.id,
      is_error: false,
      model_usage: modelUsageWire(usage),
    });
  }

  private limitReached(): 'limit' {
    this.journal.emit({
      type: 'session.error',
      error: {
        type: 'compaction_limit_reached_error',
        message: 'The context could not be compacted enough to make room for the next model request.',
        retry_status: { type: 'exhausted' },
      },
    });
    return 'limit';
  }
}

/** The grader's and the summariser's model calls: the agent's model, tenant and vaults. */
export function sideCallOf(input: SessionWorkflowInput): CompactionCall {
  const { agent } = input;
  return {
    sessionId: input.sessionId,
    ...(input.thread ? { meteredSessionId: input.thread.sessionId } : {}),
    model: { provider: agent.model.provider ?? 'anthropic', id: agent.model.id, baseUrl: agent.model.base_url },
    tenantId: input.tenantId,
    vaultIds: input.vaultIds,
    maxOutputTokens: agent.limits?.max_output_tokens ?? defaultLimits.max_output_tokens,
  };
}
