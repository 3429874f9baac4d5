// A dream: a durable job that reads a memory store (and sessions' transcripts) and writes a reorganised store. The
// model works through two tools (write_memory, delete_memory) whose calls are staged; nothing reaches the output store
// until the last activity applies them all in one transaction. Memory content stays out of this workflow's history:
// the prompt, the conversation and the staged writes are kept in PostgreSQL by the activities, which answer with
// paths and hashes (patch `dream-content-by-reference`; dreams started before it kept them in the workflow's state).
// A cancel (the API marks the dream canceled, then cancels this workflow) stops the model call in flight and skips
// that transaction, so a canceled dream leaves its input store as it was.
import { ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { DreamActivities } from '../activities/dreams/activities.ts';
import type { ModelActivities } from '../activities/model/activities.ts';
import {
  dreamSystemPrompt,
  dreamTools,
  stageDreamToolCall,
  type DreamStatus,
  type DreamWorkflowInput,
} from '../domain/dreams.ts';
import { nonRetryableFailureTypes } from '../domain/errors.ts';
import type { ModelMessage, ToolUseBlock } from '../domain/model.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';

const store = proxyActivities<DreamActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Dreams whose prompt, conversation and staged writes never enter this history. */
export const dreamContentByReferencePatch = 'dream-content-by-reference';

const modelActivities = (input: DreamWorkflowInput) =>
  proxyActivities<ModelActivities>({
    taskQueue: withPrefix(input.taskQueuePrefix, taskQueues.model),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: nonRetryableFailureTypes },
  });

const stepsExhausted = (input: DreamWorkflowInput) =>
  ApplicationFailure.nonRetryable(`the model was still writing after ${input.maxSteps} steps`, 'timeout');

/** The model's steps on the conversation kept in PostgreSQL; returns once the model is done writing. */
async function consolidateByReference(input: DreamWorkflowInput, maxOutputTokens: number): Promise<void> {
  const model = modelActivities(input);
  for (let step = 1; step <= input.maxSteps; step++) {
    const result = await model.invokeDreamStep.executeWithOptions({ summary: `${input.model.id} dream step ${step}` }, [
      { dreamId: input.dreamId, step, tenantId: input.tenantId, model: input.model, maxOutputTokens },
    ]);
    await store.recordDreamUsage({ dreamId: input.dreamId, usage: result.usage });
    if (result.done) return;
  }
  throw stepsExhausted(input);
}

async function consolidate(input: DreamWorkflowInput, prompt: string, maxOutputTokens: number) {
  const model = modelActivities(input);
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
    messages.push({ role: 'user', content: uses.map((use) => stageDreamToolCall(writes, use)) });
  }
  throw stepsExhausted(input);
}

export async function dreamWorkflow(input: DreamWorkflowInput): Promise<DreamStatus> {
  try {
    const byReference = patched(dreamContentByReferencePatch);
    const begun = await store.beginDream({ dreamId: input.dreamId, ...(byReference ? { byReference } : {}) });
    if (begun.status !== 'running') return begun.status as DreamStatus;
    if (byReference) {
      await consolidateByReference(input, begun.maxOutputTokens);
      return (await store.finishDream({ dreamId: input.dreamId, writes: [], staged: true })).status;
    }
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
