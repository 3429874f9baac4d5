-- Up Migration
-- Temporal resets: a session workflow reset to an earlier workflow task (Temporal UI "Reset", `temporal workflow
-- reset`) re-decides its events from that point with the same seq numbers (the workflow's own numbering) and fresh
-- ids, since the SDK reseeds the workflow's randomness with the new run id. With (session_id, seq) as the key those
-- events were dropped as duplicates. Now the log's order is `position`, assigned by the journal when a row is written
-- (per session, contiguous, in commit order); a row is a duplicate only when the session already has the same event
-- (id) at the same seq, which is what a retried write of the same run sends. The reset run's events follow the old
-- run's, which stay (the log is append-only). `seq` stays the workflow's numbering: the transcript at a seq is the
-- newest row for each seq (see readEvents in db/repositories/session-events.ts). Old rows keep position = seq, so
-- every cursor and Last-Event-ID handed out before stays valid.
alter table session_events add column position bigint;
update session_events set position = seq;
alter table session_events alter column position set not null;
alter table session_events drop constraint session_events_pkey;
alter table session_events add primary key (session_id, position);
drop index session_events_id;
create unique index session_events_seq_id on session_events (session_id, seq, id);

-- Running time: the previous status is the one before in the log's order (a reset run's statuses follow the old run's).
create or replace function usage_ledger_session_seconds() returns trigger language plpgsql as $$
declare
  previous record;
  tenant text;
  metered text;
begin
  select type, processed_at into previous from session_events
   where session_id = new.session_id and position < new.position
     and type in ('session.status_running', 'session.status_idle', 'session.status_rescheduled',
                  'session.status_terminated')
   order by position desc limit 1;
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
-- Keeps the newest row of each seq (and of each id), as the old key allows.
delete from session_events a using session_events b
 where a.session_id = b.session_id and (a.seq = b.seq or a.id = b.id) and a.position < b.position;
drop index session_events_seq_id;
alter table session_events drop constraint session_events_pkey;
alter table session_events add primary key (session_id, seq);
create unique index session_events_id on session_events (id);
alter table session_events drop column position;
