-- Up Migration
-- Snapshots of a sandbox's /workspace (a tar, as Docker's archive API returns it), kept in PostgreSQL so that a session
-- whose container or Docker host is lost can be restored on any other host. Only the newest few per session are kept.
create table sandbox_snapshots (
  id text primary key,
  tenant_id text not null,
  session_id text not null,
  data bytea not null,
  size_bytes bigint not null,
  created_at timestamptz not null default now()
);
create index sandbox_snapshots_session on sandbox_snapshots (tenant_id, session_id, created_at desc);

-- Down Migration
drop table sandbox_snapshots;
