// The primary thread's advisor (`consult_advisor`, domain/tools/advisor-tool.ts): one side model call to the advisor
// model with the question, on the model queue like the grader's and the summariser's; the answer is the tool result.
// Its tokens are metered in the ledger under the session (and count toward the tenant's budget).
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import { modelSideActivities } from './activity-proxies.ts';
import { sideCallOf } from './compaction.ts';
import type { ToolCall } from './tool-execution.ts';

export async function consultAdvisor(
  call: ToolCall,
  model: string,
  session: SessionWorkflowInput,
): Promise<ToolOutcome> {
  const side = sideCallOf(session);
  const { text } = await modelSideActivities(session.settings).consultAdvisor({
    ...side,
    model: { provider: 'anthropic', id: model },
    question: String(call.input.question),
    toolUseId: call.eventId,
  });
  return { content: text, isError: false };
}
