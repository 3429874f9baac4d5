-- Up Migration
-- The API's resources. Every row carries its tenant; every query filters by it. `position` (a sequence) gives lists a
-- stable, opaque cursor order without relying on timestamps that may tie.

-- Agents are versioned: `agents` holds identity and lifecycle, `agent_versions` one immutable row per update.
create table agents (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  current_version integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index agents_tenant on agents (tenant_id, position);

create table agent_versions (
  agent_id text not null references agents(id) on delete cascade,
  version integer not null,
  tenant_id text not null,
  -- name, description, system, model, tools, mcp_servers, skills, metadata, limits: as the client sees them
  definition jsonb not null,
  created_at timestamptz not null default now(),
  primary key (agent_id, version)
);

create table environments (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  name text not null,
  description text,
  config jsonb not null,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create unique index environments_name on environments (tenant_id, name);
create index environments_tenant on environments (tenant_id, position);

-- A session's row is for ownership and listing; its state lives in its Temporal workflow and its event journal.
create table sessions (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  agent_id text not null,
  agent_version integer not null,
  agent_snapshot jsonb not null,
  environment_id text not null,
  title text,
  metadata jsonb not null default '{}',
  vault_ids text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index sessions_tenant on sessions (tenant_id, position);

create table files (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  filename text not null,
  mime_type text not null,
  size_bytes bigint not null,
  data bytea not null,
  scope_session_id text,
  created_at timestamptz not null default now()
);
create index files_tenant on files (tenant_id, position);

create table session_resources (
  id text primary key,
  tenant_id text not null,
  session_id text not null references sessions(id) on delete cascade,
  position bigserial not null,
  type text not null,
  file_id text,
  mount_path text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index session_resources_session on session_resources (session_id, position);

create table vaults (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  display_name text not null,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index vaults_tenant on vaults (tenant_id, position);

-- `auth` is the credential's public part (what responses show); `secret` is the AES-256-GCM sealed JSON of its
-- secret fields (tokens, client secrets), opened only by whatever resolves the credential for a tool call.
create table vault_credentials (
  id text primary key,
  tenant_id text not null,
  vault_id text not null references vaults(id) on delete cascade,
  position bigserial not null,
  display_name text,
  metadata jsonb not null default '{}',
  auth jsonb not null,
  auth_key text not null,
  secret bytea not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create unique index vault_credentials_key on vault_credentials (vault_id, auth_key) where archived_at is null;
create index vault_credentials_vault on vault_credentials (vault_id, position);

-- Down Migration
drop table vault_credentials;
drop table vaults;
drop table session_resources;
drop table files;
drop table sessions;
drop table environments;
drop table agent_versions;
drop table agents;
