// The primary thread's advisor (`consult_advisor`, domain/tools/advisor-tool.ts): one side model call to the advisor
// model with the question, on the model queue like the grader's and the summariser's; the answer is the tool result.
// Its tokens are metered in the ledger under the session (and count toward the tenant's budget); from the
// `advisor-usage-counted` patch on they also count in the session's usage, and the call is journaled as a model
// request (`span.model_request_start` / `_end` with its usage), so the log's usage adds up to the ledger's.
import { patched } from '@temporalio/workflow';
import { emptyModelUsage, modelUsageWire, type ModelUsage } from '../domain/model.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import { modelSideActivities } from './activity-proxies.ts';
import { sideCallOf } from './compaction.ts';
import type { EventJournal } from './event-journal.ts';
import type { ToolCall } from './tool-execution.ts';

/** Sessions before it neither journaled the advisor's request nor added its tokens to the session's usage. */
export const advisorUsagePatch = 'advisor-usage-counted';

/** Where the advisor's request is journaled and its usage counted (the session's runtime). */
export interface AdvisorHost {
  journal: EventJournal;
  addUsage: (usage: ModelUsage) => void;
}

export async function consultAdvisor(
  call: ToolCall,
  model: string,
  session: SessionWorkflowInput,
  host: AdvisorHost | undefined,
): Promise<ToolOutcome> {
  const side = sideCallOf(session);
  const counted = host !== undefined && patched(advisorUsagePatch);
  const start = counted
    ? host.journal.emit({ type: 'span.model_request_start', model, summary: `advisor ${model}` })
    : undefined;
  try {
    const { text, usage } = await modelSideActivities(session.settings).consultAdvisor({
      ...side,
      model: { provider: 'anthropic', id: model },
      question: String(call.input.question),
      toolUseId: call.eventId,
    });
    if (start && host) {
      host.addUsage(usage);
      host.journal.emit({
        type: 'span.model_request_end',
        model_request_start_id: start.id,
        is_error: false,
        model_usage: modelUsageWire(usage),
      });
    }
    return { content: text, isError: false };
  } catch (error) {
    if (start && host) {
      host.journal.emit({
        type: 'span.model_request_end',
        model_request_start_id: start.id,
        is_error: true,
        model_usage: modelUsageWire(emptyModelUsage()),
      });
    }
    throw error;
  }
}
