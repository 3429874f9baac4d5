// A `user.define_outcome` as the session takes it: its outcome id assigned (answered to the sender at once) and a file
// rubric resolved to its text, as Anthropic's API does ("file rubrics are currently resolved to their text content").
import type pg from 'pg';
import { getFileContent } from '../db/repositories/files.ts';
import type { UserDefineOutcomeEvent } from '../domain/events.ts';
import { idPrefix, makeId } from '../domain/ids.ts';
import { invalidRequest } from './errors.ts';
import type { DefineOutcomeBody } from './schemas/events.ts';

export async function resolveOutcome(
  pool: pg.Pool,
  tenantId: string,
  body: DefineOutcomeBody,
  eventId: string,
): Promise<Omit<UserDefineOutcomeEvent, 'id' | 'processed_at'>> {
  let content: string;
  if (body.rubric.type === 'text') content = body.rubric.content;
  else {
    const file = await getFileContent(pool, tenantId, body.rubric.file_id);
    if (!file) throw invalidRequest(`rubric file ${body.rubric.file_id} not found`);
    content = file.data.toString('utf8');
  }
  return {
    type: 'user.define_outcome',
    description: body.description,
    rubric: { type: 'text', content },
    max_iterations: body.max_iterations ?? null,
    // From the event's id, so a retried request (same Idempotency-Key, same event id) names the same outcome.
    outcome_id: makeId('outcome', eventId.slice(idPrefix.event.length)),
  };
}
