-- Up Migration
-- github_repository session resources: the repository URL, the checkout (branch or commit) and the authorization
-- token sealed like a vault secret (AES-256-GCM, associated data = the resource id). File resources leave them null.
alter table session_resources add column url text;
alter table session_resources add column checkout jsonb;
alter table session_resources add column authorization_token_sealed bytea;

-- Down Migration
alter table session_resources drop column authorization_token_sealed;
alter table session_resources drop column checkout;
alter table session_resources drop column url;
