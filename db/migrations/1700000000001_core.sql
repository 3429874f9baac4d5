-- Up Migration
-- Tenants and their API keys. Keys are stored as SHA-256 hashes; the plaintext is shown once, at creation.
create table tenants (
  id text primary key,
  name text not null,
  created_at timestamptz not null default now()
);

create table api_keys (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  key_hash text not null unique,
  name text not null default '',
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

-- The session event log as clients read it: written by the session workflow (through a local activity, in order,
-- idempotently by event id), read by the API for listing and for the SSE stream, and by the model activity to build
-- the transcript. Temporal history stays the source of truth: replaying a session reproduces these rows exactly.
create table session_events (
  session_id text not null,
  seq bigint not null,
  id text not null,
  type text not null,
  body jsonb not null,
  processed_at timestamptz,
  primary key (session_id, seq)
);
create unique index session_events_id on session_events (id);
create index session_events_type on session_events (session_id, type);

-- Claim-check store for Temporal payloads over the inline threshold (see activities/store and workers/codec).
create table payload_blobs (
  id text primary key,
  data bytea not null,
  created_at timestamptz not null default now()
);

-- Down Migration
drop table payload_blobs;
drop table session_events;
drop table api_keys;
drop table tenants;
