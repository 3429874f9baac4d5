-- Up Migration
-- Per-tenant and per-key limit overrides (absent fields take the platform defaults from configuration), and the
-- Idempotency-Key store: one row per (caller scope, key) holding the request's hash and, once answered, the response
-- (kept 24 h; a 5xx or 429 is not kept, so a retry runs again).
alter table tenants add column limits jsonb not null default '{}';
alter table api_keys add column limits jsonb not null default '{}';

create table idempotency_keys (
  scope text not null,
  key text not null,
  request_hash text not null,
  status integer,
  content_type text,
  body text,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- Down Migration
drop table idempotency_keys;
alter table api_keys drop column limits;
alter table tenants drop column limits;
