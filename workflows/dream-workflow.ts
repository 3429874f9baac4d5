// A dream: a durable job that reads a memory store (and sessions' transcripts) and writes a reorganised store. The
// model works through two tools (write_memory, delete_memory) whose calls are staged here, in the workflow's state;
// nothing reaches the output store until the last activity applies them all in one transaction. A cancel (the API
// marks the dream canceled, then cancels this workflow) stops the model call in flight and skips that transaction, so
// a canceled dream leaves its input store as it was.
import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { DreamActivities } from '../activities/dreams/activities.ts';
import type { ModelActivities } from '../activities/model/activities.ts';
import { dreamSystemPrompt, dreamTools, type DreamStatus, type DreamWorkflowInput } from '../domain/dreams.ts';
import { nonRetryableFailureTypes } from '../domain/errors.ts';
import { memoryContentProblem, memoryPathProblem } from '../domain/memory.ts';
import type { ModelMessage, ToolResultBlock, ToolUseBlock } from '../domain/model.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';

const store = proxyActivities<DreamActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Applies one tool call to the staged writes; answers what the model reads back. */
function stage(writes: Map<string, string | null>, use: ToolUseBlock): ToolResultBlock {
  const input = use.input as { path?: unknown; content?: unknown };
  const path = typeof input.path === 'string' ? input.path : '';
  const content = use.name === 'write_memory' ? (typeof input.content === 'string' ? input.content : '') : null;
  const problem =
    use.name !== 'write_memory' && use.name !== 'delete_memory'
      ? `unknown tool ${use.name}`
      : (memoryPathProblem(path) ?? (content === null ? undefined : memoryContentProblem(content)));
  if (!problem) writes.set(path, content);
  const text = problem ?? (content === null ? `deleted ${path}` : `wrote ${path}`);
  return { type: 'tool_result', toolUseId: use.id, content: [{ type: 'text', text }], isError: problem !== undefined };
}

async function consolidate(input: DreamWorkflowInput, prompt: string, maxOutputTokens: number) {
  const model = proxyActivities<ModelActivities>({
    taskQueue: withPrefix(input.taskQueuePrefix, taskQueues.model),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: nonRetryableFailureTypes },
  });
  const messages: ModelMessage[] = [{ role: 'user', content: [{ type: 'text', text: prompt }] }];
  const writes = new Map<string, string | null>();
  for (let step = 1; step <= input.maxSteps; step++) {
    const response = await model.invokeModelOnMessages.executeWithOptions(
      { summary: `${input.model.id} dream step ${step}` },
      [
        {
          meterAs: input.dreamId,
          callId: `${input.dreamId}-${step}`,
          tenantId: input.tenantId,
          model: input.model,
          system: dreamSystemPrompt,
          messages,
          tools: dreamTools,
          maxOutputTokens,
        },
      ],
    );
    await store.recordDreamUsage({ dreamId: input.dreamId, usage: response.usage });
    const uses = response.content.filter((block): block is ToolUseBlock => block.type === 'tool_use');
    if (uses.length === 0) return [...writes].map(([path, content]) => ({ path, content }));
    messages.push({ role: 'assistant', content: response.content });
    messages.push({ role: 'user', content: uses.map((use) => stage(writes, use)) });
  }
  throw ApplicationFailure.nonRetryable(`the model was still writing after ${input.maxSteps} steps`, 'timeout');
}

export async function dreamWorkflow(input: DreamWorkflowInput): Promise<DreamStatus> {
  try {
    const begun = await store.beginDream({ dreamId: input.dreamId });
    if (begun.status !== 'running') return begun.status as DreamStatus;
    const writes = await consolidate(input, begun.prompt, begun.maxOutputTokens);
    return (await store.finishDream({ dreamId: input.dreamId, writes })).status;
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => store.endDream({ dreamId: input.dreamId, status: 'canceled' }));
      return 'canceled';
    }
    const failure = error instanceof ApplicationFailure ? error : undefined;
    const cause = (error as { cause?: unknown }).cause;
    const type = failure?.type ?? (cause instanceof ApplicationFailure ? cause.type : undefined) ?? 'internal_error';
    const message = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
    await store.endDream({ dreamId: input.dreamId, status: 'failed', error: { type, message } });
    return 'failed';
  }
}
