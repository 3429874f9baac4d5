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

-- Running time of a thread counts as its session's: the ledger trigger (migration 122) resolves a thread's log to the
-- session it belongs to, for the tenant and the session the row is metered under.
create or replace function usage_ledger_session_seconds() returns trigger language plpgsql as $$
declare
  previous record;
  tenant text;
  metered text;
begin
  select type, processed_at into previous from session_events
   where session_id = new.session_id and seq < new.seq
     and type in ('session.status_running', 'session.status_idle', 'session.status_rescheduled',
                  'session.status_terminated')
   order by seq desc limit 1;
  if previous.type is distinct from 'session.status_running' then
    return null;
  end if;
  metered := coalesce((select session_id from session_threads where id = new.session_id), new.session_id);
  tenant := coalesce(
    (select tenant_id from sessions where id = metered),
    (select tenant_id from usage_ledger where session_id = metered limit 1));
  if tenant is null then
    return null;
  end if;
  insert into usage_ledger (entry_key, tenant_id, session_id, kind, seconds, occurred_at)
  values ('active:' || new.id, tenant, metered, 'session_seconds',
          greatest(0, extract(epoch from new.processed_at - previous.processed_at)), new.processed_at)
  on conflict (entry_key) do nothing;
  return null;
end $$;

-- Down Migration
create or replace function usage_ledger_session_seconds() returns trigger language plpgsql as $$
declare
  previous record;
  tenant text;
begin
  select type, processed_at into previous from session_events
   where session_id = new.session_id and seq < new.seq
     and type in ('session.status_running', 'session.status_idle', 'session.status_rescheduled',
                  'session.status_terminated')
   order by seq desc limit 1;
  if previous.type is distinct from 'session.status_running' then
    return null;
  end if;
  tenant := coalesce(
    (select tenant_id from sessions where id = new.session_id),
    (select tenant_id from usage_ledger where session_id = new.session_id limit 1));
  if tenant is null then
    return null;
  end if;
  insert into usage_ledger (entry_key, tenant_id, session_id, kind, seconds, occurred_at)
  values ('active:' || new.id, tenant, new.session_id, 'session_seconds',
          greatest(0, extract(epoch from new.processed_at - previous.processed_at)), new.processed_at)
  on conflict (entry_key) do nothing;
  return null;
end $$;
drop table session_threads;
