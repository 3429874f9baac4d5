-- Up Migration
-- Self-hosted environments: the keys their runners authenticate with, and the work queue that hands their sessions to
-- runners. A work item is one session's claim on a runner; its lease is `lease_expires_at`, renewed by heartbeats and
-- compared at poll time (a lapsed lease makes the item claimable again). The runner's per-item token is derived from
-- the item id (HMAC), so nothing secret is stored here; environment keys are stored as SHA-256 hashes.
create table environment_keys (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  environment_id text not null references environments(id) on delete cascade,
  position bigserial not null,
  name text not null,
  key_hash text not null unique,
  key_hint text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index environment_keys_environment on environment_keys (tenant_id, environment_id, position);

create table work_items (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  environment_id text not null references environments(id) on delete cascade,
  session_id text not null,
  position bigserial not null,
  state text not null default 'queued',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  delivery_count integer not null default 0,
  worker_id text,
  acknowledged_at timestamptz,
  started_at timestamptz,
  last_heartbeat text,
  latest_heartbeat_at timestamptz,
  lease_ttl_seconds integer not null default 90,
  lease_expires_at timestamptz,
  stop_requested_at timestamptz,
  stopped_at timestamptz
);
create index work_items_queue on work_items (environment_id, state, position);
create index work_items_listing on work_items (tenant_id, environment_id, position);
-- At most one open item per session: a session needing tools while its item is open is already served.
create unique index work_items_open_session on work_items (session_id) where state <> 'stopped';

-- Who polled lately (stats: workers_polling).
create table work_pollers (
  environment_id text not null references environments(id) on delete cascade,
  worker_id text not null,
  last_poll_at timestamptz not null default now(),
  primary key (environment_id, worker_id)
);

-- Down Migration
drop table work_pollers;
drop table work_items;
drop table environment_keys;
