-- Up Migration
-- Files the agent wrote under /mnt/session/outputs, captured as session-scoped files: one row per (session, path,
-- content), so a retried capture never adds a second row and a changed file adds a new one.
alter table files add column output_path text;
alter table files add column content_sha256 text;
create unique index files_session_output on files (tenant_id, scope_session_id, output_path, content_sha256)
  where output_path is not null;

-- Down Migration
drop index files_session_output;
alter table files drop column content_sha256;
alter table files drop column output_path;
