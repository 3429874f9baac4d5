-- Up Migration
-- The usage ledger: append-only rows written as the work happens, each with a unique entry key so a retried writer
-- adds nothing twice, and no foreign key to sessions, so deleting a session keeps its bill.
--   model_tokens     one per model response (the model activity; key: the response's agent.message event id), with
--                    the model, the tokens and their cost from the configured price table at the time
--   session_seconds  one per running stretch of a session (running → its next status), written by the trigger below
--                    when the journal records the stretch's end (key: that status event's id)
create table usage_ledger (
  id bigserial primary key,
  entry_key text not null unique,
  tenant_id text not null,
  session_id text not null,
  kind text not null check (kind in ('model_tokens', 'session_seconds', 'sandbox_seconds')),
  model text,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cache_read_input_tokens bigint not null default 0,
  cache_creation_input_tokens bigint not null default 0,
  seconds double precision not null default 0,
  cost_usd numeric(20, 10) not null default 0,
  occurred_at timestamptz not null default now()
);
create index usage_ledger_tenant_time on usage_ledger (tenant_id, occurred_at);
create index usage_ledger_session on usage_ledger (session_id);

-- A sub-agent's session has no sessions row: its tenant is the one its model calls were metered under.
create function usage_ledger_session_seconds() returns trigger language plpgsql as $$
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

create trigger session_events_usage_ledger after insert on session_events
  for each row when (new.type in ('session.status_idle', 'session.status_rescheduled', 'session.status_terminated'))
  execute function usage_ledger_session_seconds();

-- Down Migration
drop trigger session_events_usage_ledger on session_events;
drop function usage_ledger_session_seconds();
drop table usage_ledger;
