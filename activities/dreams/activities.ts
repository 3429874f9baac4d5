// The dream activities, registered by the automation worker: start a dream (status running, the output store made as
// a copy of the input for `create_new`, the prompt read from the store and the sessions and kept as the start of the
// dream's conversation in PostgreSQL), record its token usage, and finish it by applying every staged write to the
// output store in one transaction — only while the dream is still running, so a dream canceled before that moment
// changes nothing (and an `update_existing` input stays as it was). Finishing or ending a dream deletes its
// conversation, the one place besides the stores where the memory content it read and wrote was kept.
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import {
  deleteDreamConversation,
  dreamConversation,
  startDreamConversation,
} from '../../db/repositories/dream-conversations.ts';
import { addDreamUsage, lockDream, setDreamStatus, type DreamRow } from '../../db/repositories/dreams.ts';
import { applyMemoryWrites, memoriesOfStore, type MemoryActor } from '../../db/repositories/memories.ts';
import { createMemoryStore, getMemoryStore } from '../../db/repositories/memory-stores.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { withTransaction } from '../../db/transaction.ts';
import type {
  BeginDreamInput,
  BegunDream,
  DreamUsageInput,
  EndDreamInput,
  FinishDreamInput,
  FinishedDream,
} from '../../domain/contracts/dream-activity.ts';
import { finalDreamStatuses } from '../../domain/dreams.ts';

export interface DreamActivityDeps {
  pool: pg.Pool;
}

/** The most transcript text one session contributes to the prompt, and the prompt's whole budget. */
const maxSessionChars = 50_000;
const maxPromptChars = 400_000;

const actorOf = (row: DreamRow): MemoryActor => ({ type: 'api_actor', api_key_id: row.api_key_id ?? '' });
const inputStoreOf = (row: DreamRow): string =>
  row.inputs.flatMap((input) => (input.type === 'memory_store' ? [input.memory_store_id] : []))[0] ?? '';

/** The text of a session's user and agent messages, oldest first. */
async function transcriptOf(pool: pg.Pool, sessionId: string): Promise<string> {
  const lines: string[] = [];
  for (const { event } of await readEvents(pool, sessionId)) {
    if (event.type !== 'user.message' && event.type !== 'agent.message') continue;
    const text = event.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
    lines.push(`${event.type === 'user.message' ? 'User' : 'Agent'}: ${text}`);
  }
  return lines.join('\n').slice(-maxSessionChars);
}

async function promptOf(pool: pg.Pool, row: DreamRow): Promise<string> {
  const parts: string[] = [];
  if (row.instructions) parts.push(`Instructions: ${row.instructions}`);
  const memories = await memoriesOfStore(pool, inputStoreOf(row));
  parts.push(`# The memory store (${memories.length} memories)`);
  for (const memory of memories) parts.push(`## ${memory.path}\n${memory.content}`);
  for (const input of row.inputs) {
    if (input.type !== 'sessions') continue;
    for (const sessionId of input.session_ids) {
      parts.push(`# Session ${sessionId}\n${await transcriptOf(pool, sessionId)}`);
    }
  }
  return parts.join('\n\n').slice(0, maxPromptChars);
}

export function createDreamActivities(deps: DreamActivityDeps) {
  const { pool } = deps;
  return {
    /** Marks the dream running and makes its output store; idempotent (a retry finds the store already made). */
    async beginDream(input: BeginDreamInput): Promise<BegunDream & { status: string }> {
      const row = await withTransaction(pool, async (client) => {
        const dream = await lockDream(client, input.dreamId);
        if (!dream || finalDreamStatuses.includes(dream.status)) return dream;
        const storeId = inputStoreOf(dream);
        let outputStoreId = dream.output_memory_store_id ?? undefined;
        if (!outputStoreId && dream.output_behavior.type === 'update_existing') outputStoreId = storeId;
        if (!outputStoreId) {
          const source = await getMemoryStore(client, dream.tenant_id, storeId);
          const output = await createMemoryStore(client, dream.tenant_id, {
            name: `${source?.name ?? 'memory'} (dream)`,
            description: source?.description ?? '',
            metadata: { dream_id: dream.id },
          });
          const copies = (await memoriesOfStore(client, storeId)).map((memory) => ({
            path: memory.path,
            content: memory.content,
          }));
          await applyMemoryWrites(client, dream.tenant_id, output.id, copies, actorOf(dream));
          outputStoreId = output.id;
        }
        return setDreamStatus(client, dream.id, 'running', { outputStoreId });
      });
      if (!row) throw new Error(`dream ${input.dreamId} does not exist`);
      if (finalDreamStatuses.includes(row.status)) return { status: row.status, prompt: '', maxOutputTokens: 0 };
      const prompt = await promptOf(pool, row);
      if (!input.byReference) return { status: row.status, prompt, maxOutputTokens: 8_192 };
      await startDreamConversation(pool, row.id, prompt);
      return { status: row.status, prompt: '', maxOutputTokens: 8_192 };
    },

    async recordDreamUsage(input: DreamUsageInput): Promise<void> {
      await addDreamUsage(pool, input.dreamId, input.usage);
    },

    /** Applies the staged writes in one transaction and completes the dream, unless it was canceled first. */
    async finishDream(input: FinishDreamInput): Promise<FinishedDream> {
      return withTransaction(pool, async (client) => {
        const dream = await lockDream(client, input.dreamId);
        if (!dream) throw new Error(`dream ${input.dreamId} does not exist`);
        if (dream.status !== 'running' || !dream.output_memory_store_id) {
          await deleteDreamConversation(client, dream.id);
          return { status: dream.status };
        }
        const writes = input.staged ? ((await dreamConversation(client, dream.id))?.staged ?? []) : input.writes;
        const skipped = await applyMemoryWrites(
          client,
          dream.tenant_id,
          dream.output_memory_store_id,
          writes,
          actorOf(dream),
        );
        await deleteDreamConversation(client, dream.id);
        if (skipped.length > 0) Context.current().log.warn(`dream ${dream.id}: writes skipped: ${skipped.join('; ')}`);
        const done = await setDreamStatus(client, dream.id, 'completed');
        return { status: done?.status ?? 'completed' };
      });
    },

    async endDream(input: EndDreamInput): Promise<void> {
      await setDreamStatus(pool, input.dreamId, input.status, input.error ? { error: input.error } : {});
      await deleteDreamConversation(pool, input.dreamId);
    },
  };
}

export type DreamActivities = ReturnType<typeof createDreamActivities>;
