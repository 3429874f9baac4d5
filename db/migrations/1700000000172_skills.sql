-- Up Migration
-- Skills (/v1/skills) and their immutable versions. A version's files are rows of skill_files (kept in PostgreSQL like
-- uploaded files); a version id is the Unix epoch in microseconds at its creation (as Anthropic's), unique and
-- increasing within its skill. `tenant_id` null marks a built-in skill the platform ships (source `anthropic`), which
-- every tenant can read and none can change. Versions and their files are never updated: triggers refuse it.
create table skills (
  id text primary key,
  tenant_id text references tenants(id) on delete cascade,
  position bigserial not null,
  name text not null,
  display_name text not null,
  source text not null default 'custom',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index skills_tenant on skills (tenant_id, position);

create table skill_versions (
  skill_id text not null references skills(id) on delete cascade,
  id text not null,
  position bigserial not null,
  name text not null,
  description text not null,
  created_at timestamptz not null default now(),
  primary key (skill_id, id)
);
create index skill_versions_skill on skill_versions (skill_id, position);

create table skill_files (
  skill_id text not null,
  version_id text not null,
  path text not null,
  data bytea not null,
  primary key (skill_id, version_id, path),
  foreign key (skill_id, version_id) references skill_versions (skill_id, id) on delete cascade
);

create function refuse_skill_version_update() returns trigger language plpgsql as $$
begin
  raise exception 'skill versions are immutable';
end;
$$;
create trigger skill_versions_immutable before update on skill_versions
  for each row execute function refuse_skill_version_update();
create trigger skill_files_immutable before update on skill_files
  for each row execute function refuse_skill_version_update();

-- Down Migration
drop table skill_files;
drop table skill_versions;
drop table skills;
drop function refuse_skill_version_update();
