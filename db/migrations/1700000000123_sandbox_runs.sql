-- Up Migration
-- Running stretches of sandbox containers, for the usage ledger: a stretch opens when a container is created or
-- unpaused and closes (writing one `sandbox_seconds` ledger row) when it is paused or removed. At most one open
-- stretch per container.
create table sandbox_runs (
  id bigserial primary key,
  container_id text not null,
  tenant_id text not null,
  session_id text not null,
  started_at timestamptz not null default now(),
  ended_at timestamptz
);
create unique index sandbox_runs_open on sandbox_runs (container_id) where ended_at is null;
create index sandbox_runs_session on sandbox_runs (session_id) where ended_at is null;

-- Down Migration
drop table sandbox_runs;
