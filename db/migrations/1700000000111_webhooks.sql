-- Up Migration
-- Webhook endpoints a tenant configures (URL, event-type filter, signing secret sealed at rest) and the delivery log:
-- one row per (endpoint, event), whose id is the Standard Webhooks `webhook-id` (stable across retries).
create table webhook_endpoints (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  url text not null,
  description text,
  event_types text[] not null default '{}',
  secret_sealed bytea not null,
  previous_secret_sealed bytea,
  previous_secret_expires_at timestamptz,
  status text not null default 'enabled',
  disabled_reason jsonb,
  failure_streak integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_tenant on webhook_endpoints (tenant_id, position);

create table webhook_deliveries (
  id text primary key,
  tenant_id text not null,
  endpoint_id text not null references webhook_endpoints(id) on delete cascade,
  position bigserial not null,
  event_id text not null,
  event_type text not null,
  subject_id text not null,
  payload jsonb not null,
  status text not null default 'pending',
  attempts integer not null default 0,
  last_status_code integer,
  last_error text,
  dispatched_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (endpoint_id, event_id)
);
create index webhook_deliveries_endpoint on webhook_deliveries (endpoint_id, position);
create index webhook_deliveries_subject on webhook_deliveries (endpoint_id, subject_id, position);
create index webhook_deliveries_undispatched on webhook_deliveries (created_at) where dispatched_at is null;
