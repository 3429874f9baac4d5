-- Up Migration
-- Regions (README "Regions"): every worker process of a region's fleet beats here every few seconds. A region whose
-- session workers have all gone quiet has its session queue adopted by another region's session workers; a region
-- whose sandbox workers have all gone quiet gets no new sandboxes (sessions placed there move). One row per process.
create table region_heartbeats (
  region text not null,
  worker_id text not null,
  kind text not null check (kind in ('session', 'model', 'sandbox')),
  seen_at timestamptz not null default now(),
  primary key (region, worker_id)
);
create index region_heartbeats_kind_seen on region_heartbeats (kind, region, seen_at desc);

-- Down Migration
drop table region_heartbeats;
