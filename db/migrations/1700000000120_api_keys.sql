-- Up Migration
-- Tenants and keys managed through the API (/v1/admin/…). A key has a scope: `full` and `read_only` keys belong to a
-- tenant, `admin` keys to the platform (no tenant) and reach only the admin routes. Keys are stored as SHA-256 hashes
-- with a short hint (their last characters) for listings; `last_used_at` moves at most once a minute per key;
-- `expires_at` ends the old key of a rotation after its grace period.
alter table tenants add column position bigserial not null;
create index tenants_position on tenants (position);

alter table api_keys alter column tenant_id drop not null;
alter table api_keys add column scope text not null default 'full';
alter table api_keys add constraint api_keys_scope check (scope in ('full', 'read_only', 'admin'));
alter table api_keys add constraint api_keys_admin_without_tenant check ((scope = 'admin') = (tenant_id is null));
alter table api_keys add column key_hint text not null default '';
alter table api_keys add column last_used_at timestamptz;
alter table api_keys add column expires_at timestamptz;
alter table api_keys add column rotated_to text;
alter table api_keys add column position bigserial not null;
create index api_keys_tenant on api_keys (tenant_id, position);

-- Who did it: the key behind each user event (ids are assigned by the API before the workflow sees the event). Kept
-- when the session is deleted: an audit trail outlives what it describes.
create table event_actors (
  event_id text primary key,
  session_id text not null,
  tenant_id text not null,
  api_key_id text not null,
  created_at timestamptz not null default now()
);
create index event_actors_session on event_actors (session_id);

-- Down Migration
drop table event_actors;
drop index api_keys_tenant;
alter table api_keys drop column position;
alter table api_keys drop column rotated_to;
alter table api_keys drop column expires_at;
alter table api_keys drop column last_used_at;
alter table api_keys drop column key_hint;
alter table api_keys drop constraint api_keys_admin_without_tenant;
alter table api_keys drop constraint api_keys_scope;
alter table api_keys drop column scope;
alter table api_keys alter column tenant_id set not null;
drop index tenants_position;
alter table tenants drop column position;
