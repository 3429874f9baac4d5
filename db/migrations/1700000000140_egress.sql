-- Up Migration
-- The egress proxy's per-deployment certificate authority (one row; its key sealed with the vault key) and the log of
-- every connection a sandbox made through the proxy (host, port, bytes, verdict) that the session's trace shows.
create table egress_certificate_authority (
  name text primary key,
  certificate_pem text not null,
  private_key_sealed bytea not null,
  created_at timestamptz not null default now()
);

-- No foreign key to sessions: sessions started directly through Temporal have no row there. Deleting a session
-- deletes its rows (db/repositories/egress-log.ts).
create table sandbox_egress_log (
  id bigserial primary key,
  tenant_id text not null,
  session_id text not null,
  container_id text not null,
  started_at timestamptz not null,
  ended_at timestamptz,
  host text not null,
  port integer not null,
  kind text not null,
  verdict text not null,
  intercepted boolean not null default false,
  reason text,
  bytes_sent bigint not null default 0,
  bytes_received bigint not null default 0,
  credential_ids text[] not null default '{}'
);
create index sandbox_egress_log_session on sandbox_egress_log (tenant_id, session_id, id);

-- Down Migration
drop table sandbox_egress_log;
drop table egress_certificate_authority;
