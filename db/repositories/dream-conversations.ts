// A dream's conversation with the model and its staged writes (table dream_conversations), so memory content stays
// out of the dream workflow's history: the workflow names the dream and the step, the activities read and write here.
import type { ModelMessage } from '../../domain/model.ts';
import type { DreamWrite } from '../../domain/dreams.ts';
import type { Queryable } from '../queryable.ts';

export interface DreamConversation {
  messages: ModelMessage[];
  /** In the order the model made them; a later write to a path replaces the earlier one in place. */
  staged: DreamWrite[];
  step: number;
  stepResult: unknown;
}

/** The conversation starts with the prompt; a retried start keeps what is there. */
export async function startDreamConversation(db: Queryable, dreamId: string, prompt: string): Promise<void> {
  const messages: ModelMessage[] = [{ role: 'user', content: [{ type: 'text', text: prompt }] }];
  await db.query(
    'insert into dream_conversations (dream_id, messages) values ($1, $2) on conflict (dream_id) do nothing',
    [dreamId, JSON.stringify(messages)],
  );
}

/** The dream's conversation; `lock`: locked until the caller's transaction ends. */
export async function dreamConversation(
  db: Queryable,
  dreamId: string,
  options: { lock?: boolean } = {},
): Promise<DreamConversation | undefined> {
  const { rows } = await db.query<{
    messages: ModelMessage[];
    staged: DreamWrite[];
    step: number;
    step_result: unknown;
  }>(`select * from dream_conversations where dream_id = $1${options.lock ? ' for update' : ''}`, [dreamId]);
  const row = rows[0];
  return row && { messages: row.messages, staged: row.staged, step: row.step, stepResult: row.step_result };
}

/** Records one model step: the conversation and staged writes after it, and what the step answered. */
export async function saveDreamStep(db: Queryable, dreamId: string, conversation: DreamConversation): Promise<void> {
  await db.query(
    'update dream_conversations set messages = $2, staged = $3, step = $4, step_result = $5 where dream_id = $1',
    [
      dreamId,
      JSON.stringify(conversation.messages),
      JSON.stringify(conversation.staged),
      conversation.step,
      JSON.stringify(conversation.stepResult),
    ],
  );
}

export async function deleteDreamConversation(db: Queryable, dreamId: string): Promise<void> {
  await db.query('delete from dream_conversations where dream_id = $1', [dreamId]);
}

/**
 * Replaces each of `texts` in the conversations of the running dreams that read `storeId` (a redacted memory
 * version's content): what the model read and what it staged.
 */
export async function redactTextInDreamConversations(
  db: Queryable,
  storeId: string,
  texts: string[],
  replacement: string,
): Promise<void> {
  const escaped = (text: string) => JSON.stringify(text).slice(1, -1);
  for (const text of texts) {
    await db.query(
      `update dream_conversations c set messages = replace(messages::text, $2, $3)::jsonb,
         staged = replace(staged::text, $2, $3)::jsonb
       from dreams d
       where d.id = c.dream_id and (d.inputs @> jsonb_build_array(jsonb_build_object('memory_store_id', $1::text))
         or d.output_memory_store_id = $1)
         and (strpos(messages::text, $2) > 0 or strpos(staged::text, $2) > 0)`,
      [storeId, escaped(text), escaped(replacement)],
    );
  }
}
