-- Up Migration
-- The API key that created a dream: the author of the memory versions the dream writes.
alter table dreams add column api_key_id text;

-- Down Migration
alter table dreams drop column api_key_id;
