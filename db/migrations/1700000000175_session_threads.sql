-- Up Migration
-- Session threads other than the primary (which is the session itself): one row per thread the coordinator started,
-- written by the primary thread's workflow before it starts the thread's child workflow. A thread's events are the
-- session_events rows keyed by its thread id; its status and usage are read from them.
create table session_threads (
  id text primary key,
  session_id text not null references sessions(id) on delete cascade,
  tenant_id text not null,
  position bigserial not null,
  parent_thread_id text not null,
  agent_name text not null,
  agent jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index session_threads_session on session_threads (session_id, position);

-- Down Migration
drop table session_threads;
