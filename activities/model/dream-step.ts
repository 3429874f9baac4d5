// A dream's model step with its content kept out of Temporal history: the conversation and the staged writes live in
// PostgreSQL (db/repositories/dream-conversations.ts); the step reads them, calls the model, stages its tool calls
// (the memory path and size rules of domain/dreams.ts) and records the step in one transaction, answering the workflow
// with paths and hashes only. A retried step (its result lost after the commit) answers what it answered before; the
// model call itself is metered once per step (the ledger entry is keyed by the step).
import type pg from 'pg';
import { dreamConversation, saveDreamStep, type DreamConversation } from '../../db/repositories/dream-conversations.ts';
import { sha256Hex } from '../../db/repositories/memories.ts';
import { withTransaction } from '../../db/transaction.ts';
import type { DreamStepInput, DreamStepResult } from '../../domain/contracts/dream-activity.ts';
import { dreamSystemPrompt, dreamTools, stageDreamToolCall } from '../../domain/dreams.ts';
import type { ModelResponse, ToolUseBlock } from '../../domain/model.ts';
import type { CallProvider } from './provider-call.ts';

export function createDreamStepActivities(pool: pg.Pool, callProvider: CallProvider) {
  return {
    async invokeDreamStep(input: DreamStepInput): Promise<DreamStepResult> {
      const before = await dreamConversation(pool, input.dreamId);
      if (!before) throw new Error(`dream ${input.dreamId} has no conversation`);
      if (before.step >= input.step) return before.stepResult as DreamStepResult;
      if (before.step !== input.step - 1) {
        throw new Error(`dream ${input.dreamId} is at step ${before.step}, step ${input.step} cannot follow`);
      }
      const response = await callProvider({
        sessionId: input.dreamId,
        model: input.model,
        tenantId: input.tenantId,
        entryKey: `dream:${input.dreamId}-${input.step}`,
        system: dreamSystemPrompt,
        messages: before.messages,
        tools: dreamTools,
        maxOutputTokens: input.maxOutputTokens,
      });
      return withTransaction(pool, async (client) => {
        const conversation = await dreamConversation(client, input.dreamId, { lock: true });
        if (!conversation) throw new Error(`dream ${input.dreamId} has no conversation`);
        // Another attempt of this step got here first: its answer stands.
        if (conversation.step >= input.step) return conversation.stepResult as DreamStepResult;
        const result = applyStep(conversation, response);
        await saveDreamStep(client, input.dreamId, { ...conversation, step: input.step, stepResult: result });
        return result;
      });
    },
  };
}

/** Stages the response's tool calls into the conversation (in place); what the workflow is told. */
function applyStep(conversation: DreamConversation, response: ModelResponse): DreamStepResult {
  const uses = response.content.filter((block): block is ToolUseBlock => block.type === 'tool_use');
  const writes = new Map(conversation.staged.map((write) => [write.path, write.content]));
  const results = uses.map((use) => stageDreamToolCall(writes, use));
  if (uses.length > 0) {
    conversation.messages.push({ role: 'assistant', content: response.content });
    conversation.messages.push({ role: 'user', content: results });
  }
  conversation.staged = [...writes].map(([path, content]) => ({ path, content }));
  return {
    usage: response.usage,
    done: uses.length === 0,
    staged: conversation.staged.map((write) => ({
      path: write.path,
      contentSha256: write.content === null ? null : sha256Hex(write.content),
    })),
    refused: results.filter((result) => result.isError).length,
  };
}
