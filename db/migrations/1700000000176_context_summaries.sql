-- Up Migration
-- Context compaction: the summary that replaces a session's older events in what later model requests carry. The event
-- log keeps every event; the workflow carries only (id, after_seq), so no conversation text enters Temporal history.
create table session_context_summaries (
  id text primary key,
  session_id text not null,
  after_seq bigint not null,
  summary text not null,
  created_at timestamptz not null default now()
);
create index session_context_summaries_session on session_context_summaries (session_id);

-- Down Migration
drop table session_context_summaries;
