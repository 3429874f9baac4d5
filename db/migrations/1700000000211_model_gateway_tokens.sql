-- Up Migration
-- Session-scoped tokens of the model gateway (README "Model gateway"): what a harness running inside a sandbox sends
-- as its API key. Only the SHA-256 of a token is kept; the row says whose it is (tenant, session), which model it may
-- call and the session's token budget. Revoking sets `revoked_at`; the gateway looks the token up on every request,
-- so revocation is immediate. No foreign key to sessions: a sub-agent's session has no sessions row.
create table model_gateway_tokens (
  token_hash text primary key,
  tenant_id text not null,
  session_id text not null,
  model text not null,
  token_budget bigint,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index model_gateway_tokens_session on model_gateway_tokens (session_id);

-- Down Migration
drop table model_gateway_tokens;
