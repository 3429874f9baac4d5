-- Up Migration
-- A dream's conversation with the model and the writes it staged, kept beside the dream so that memory content never
-- enters the dream workflow's Temporal history (workflows/dream-workflow.ts passes ids, paths and hashes only). The
-- row lives while the dream runs: finishing or ending the dream deletes it, and a redaction scrubs it meanwhile.
create table dream_conversations (
  dream_id text primary key references dreams(id) on delete cascade,
  messages jsonb not null,
  -- [{path, content}] in the model's order, content null for a deletion
  staged jsonb not null default '[]',
  -- the last model step recorded, and what it answered the workflow (a retried step returns the same)
  step integer not null default 0,
  step_result jsonb
);

-- Down Migration
drop table dream_conversations;
