// Dreams: durable jobs that read a memory store (and past sessions' transcripts) and write a reorganised store through
// the model. The model conversation and the staged writes are kept in PostgreSQL (dream_conversations) by the
// activities (activities/dreams/activities.ts, activities/model/dream-step.ts), which apply the writes in one
// transaction at the end; the workflow (workflows/dream-workflow.ts) passes only ids, paths and hashes. (Dreams
// started before the patch `dream-content-by-reference` kept both in the workflow's state.)
import { memoryContentProblem, memoryPathProblem } from './memory.ts';
import type { ModelSpec, ToolResultBlock, ToolSpec, ToolUseBlock } from './model.ts';

export const dreamWorkflowType = 'dreamWorkflow';
export const dreamWorkflowId = (dreamId: string): string => `dream-${dreamId}`;

export type DreamStatus = 'pending' | 'running' | 'completed' | 'failed' | 'canceled';
export const finalDreamStatuses: readonly DreamStatus[] = ['completed', 'failed', 'canceled'];

export interface DreamWorkflowInput {
  dreamId: string;
  tenantId: string;
  model: ModelSpec;
  /** Task-queue prefix of the deployment (the model queue is reached through it). */
  taskQueuePrefix: string;
  /** Model calls at most; the dream fails if the model is still writing after them. */
  maxSteps: number;
}

/** What the workflow stages: a memory's new content at a path, or its deletion (null). */
export interface DreamWrite {
  path: string;
  content: string | null;
}

export const dreamSystemPrompt = [
  'You consolidate an AI agent’s memory store: the memories it keeps between sessions, as text files at paths.',
  'Read the current memories and the session transcripts you are given. Produce a reorganised store: merge',
  'duplicates, fix contradictions in favour of the most recent information, drop what is stale, keep files short and',
  'well named. Call write_memory for every file of the new store that is new or changes, delete_memory for every',
  'file that should go, then answer with a one-paragraph summary and no tool calls.',
].join(' ');

export const dreamTools: ToolSpec[] = [
  {
    name: 'write_memory',
    description: 'Write (create or replace) the memory at `path` with `content` in the reorganised store.',
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Starts with /, e.g. /preferences/colours.md' },
        content: { type: 'string' },
      },
      required: ['path', 'content'],
    },
  },
  {
    name: 'delete_memory',
    description: 'Remove the memory at `path` from the reorganised store.',
    inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
];

/**
 * Applies one tool call of the model to the staged writes (path → content, null to delete) after checking it against
 * the memory path and size rules; answers what the model reads back.
 */
export function stageDreamToolCall(writes: Map<string, string | null>, use: ToolUseBlock): ToolResultBlock {
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
