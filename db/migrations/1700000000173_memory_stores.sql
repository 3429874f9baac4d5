-- Up Migration
-- Memory stores: named folders of text memories that sessions mount under /mnt/memory/<slug>/ and write back.
create table memory_stores (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  name text not null,
  description text not null default '',
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index memory_stores_tenant on memory_stores (tenant_id, position);

-- The live memories: one row per path in a store; its content is the content of `memory_version_id`.
create table memories (
  id text primary key,
  tenant_id text not null,
  memory_store_id text not null references memory_stores(id) on delete cascade,
  position bigserial not null,
  path text not null,
  content text not null,
  content_sha256 text not null,
  content_size_bytes integer not null,
  memory_version_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index memories_path on memories (memory_store_id, path);
create index memories_store on memories (memory_store_id, position);

-- Every change to a memory, with who made it (an API key or a session). Redaction nulls content, path, size and hash
-- and keeps the row. Rows outlive their memory; they go with their store.
create table memory_versions (
  id text primary key,
  tenant_id text not null,
  memory_store_id text not null references memory_stores(id) on delete cascade,
  memory_id text not null,
  position bigserial not null,
  operation text not null check (operation in ('created', 'modified', 'deleted')),
  path text,
  content text,
  content_sha256 text,
  content_size_bytes integer,
  actor_api_key_id text,
  actor_session_id text,
  created_at timestamptz not null default now(),
  redacted_at timestamptz,
  redacted_by_api_key_id text
);
create index memory_versions_store on memory_versions (memory_store_id, position);
create index memory_versions_memory on memory_versions (memory_id, position);

-- Memory store session resources: the store attached, its access and per-attachment instructions, and the store's
-- name and description as they were at attach time.
alter table session_resources add column memory_store_id text;
alter table session_resources add column access text;
alter table session_resources add column instructions text;
alter table session_resources add column name text;
alter table session_resources add column description text;
alter table session_resources alter column mount_path drop not null;

-- What a session's sandbox was given of each memory: the version each mounted path had, so a sync can tell the
-- agent's changes from everyone else's (optimistic concurrency). Replaced at every mount, advanced at every sync.
create table session_memory_mounts (
  tenant_id text not null,
  session_id text not null,
  memory_store_id text not null references memory_stores(id) on delete cascade,
  path text not null,
  memory_id text not null,
  memory_version_id text not null,
  content_sha256 text not null,
  primary key (session_id, memory_store_id, path)
);

-- Dreams: durable jobs (Temporal workflows) that read a memory store and past sessions and write a reorganised store.
create table dreams (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  status text not null default 'pending',
  inputs jsonb not null,
  instructions text,
  model jsonb not null,
  output_behavior jsonb not null,
  output_memory_store_id text,
  session_id text,
  error jsonb,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  cache_read_input_tokens bigint not null default 0,
  cache_creation_input_tokens bigint not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ended_at timestamptz,
  archived_at timestamptz
);
create index dreams_tenant on dreams (tenant_id, position);

-- Down Migration
drop table dreams;
drop table session_memory_mounts;
alter table session_resources drop column description;
alter table session_resources drop column name;
alter table session_resources drop column instructions;
alter table session_resources drop column access;
alter table session_resources drop column memory_store_id;
drop table memory_versions;
drop table memories;
drop table memory_stores;
