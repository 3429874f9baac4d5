-- Up Migration
-- A thread that a workflow run started names its run (the threads API's `workflow_run_id`); null for every other thread.
alter table session_threads add column workflow_run_id text;

-- Down Migration
alter table session_threads drop column workflow_run_id;
