-- Up Migration
-- Per-tenant payload data keys: a random AES-256 key per tenant, stored only wrapped (AES-256-GCM) by a platform
-- payload key (AGENTS_PAYLOAD_KEYS, named by wrapping_key_id). The newest row of a tenant encrypts new payloads; every
-- row keeps decrypting (rotation adds a row). Encrypted payloads also carry their wrapped key, so decoding needs only
-- the platform keys (codec/tenant-keyring.ts).
create table tenant_data_keys (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  wrapped_key bytea not null,
  wrapping_key_id text not null,
  created_at timestamptz not null default now()
);
create index tenant_data_keys_current on tenant_data_keys (tenant_id, position desc);

-- Down Migration
drop table tenant_data_keys;
