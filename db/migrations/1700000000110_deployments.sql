-- Up Migration
-- Deployments: an agent version + environment + initial events, run on a Temporal Schedule (`deployment-<id>`) or on
-- demand. The row is the API's view; the schedule is the engine (its state follows `paused_reason` and `schedule`).
create table deployments (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  position bigserial not null,
  name text not null,
  description text,
  agent_id text not null,
  agent_version integer not null,
  environment_id text not null,
  initial_events jsonb not null,
  resources jsonb not null default '[]',
  vault_ids text[] not null default '{}',
  budget jsonb,
  metadata jsonb not null default '{}',
  -- {type:'cron', expression, timezone} or null (manual only)
  schedule jsonb,
  -- {type:'manual'} | {type:'error', error:{type}} | null (active)
  paused_reason jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index deployments_tenant on deployments (tenant_id, position);

-- One row per firing: the session it created or the error that stopped it. At most one run per scheduled instant.
create table deployment_runs (
  id text primary key,
  tenant_id text not null references tenants(id) on delete cascade,
  deployment_id text not null references deployments(id) on delete cascade,
  position bigserial not null,
  agent_id text not null,
  agent_version integer not null,
  trigger_type text not null,
  trigger_context jsonb not null,
  scheduled_at timestamptz,
  session_id text,
  error jsonb,
  created_at timestamptz not null default now()
);
create index deployment_runs_tenant on deployment_runs (tenant_id, position);
create index deployment_runs_deployment on deployment_runs (deployment_id, position);
create unique index deployment_runs_scheduled on deployment_runs (deployment_id, scheduled_at)
  where scheduled_at is not null;
