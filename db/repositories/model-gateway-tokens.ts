// Model gateway tokens (migration 1700000000211): the session-scoped key a harness inside a sandbox sends to the
// model gateway. Random, handed out once when minted, stored only as a SHA-256 hash; a revoked token stops working at
// once (the gateway looks it up on every request). It names its tenant, session, model and token budget — never a
// provider key.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashApiKey } from './api-keys.ts';

export const gatewayTokenPrefix = 'sk-agents-gw-';

export interface GatewayTokenGrant {
  tenantId: string;
  sessionId: string;
  /** The only model the token may call (the agent's). */
  model: string;
  /** The agent's `limits.token_budget` (input + output tokens over the session), if any. */
  tokenBudget?: number;
}

interface GatewayTokenRow {
  tenant_id: string;
  session_id: string;
  model: string;
  token_budget: string | null;
}

/** Mints a token for a session; the plaintext is returned here once and never stored. */
export async function mintGatewayToken(pool: pg.Pool, grant: GatewayTokenGrant): Promise<string> {
  const token = `${gatewayTokenPrefix}${randomBytes(32).toString('base64url')}`;
  await pool.query(
    `insert into model_gateway_tokens (token_hash, tenant_id, session_id, model, token_budget)
     values ($1, $2, $3, $4, $5)`,
    [hashApiKey(token), grant.tenantId, grant.sessionId, grant.model, grant.tokenBudget ?? null],
  );
  return token;
}

/** What a live (unrevoked) token grants, or undefined. */
export async function findGatewayToken(pool: pg.Pool, token: string): Promise<GatewayTokenGrant | undefined> {
  if (!token.startsWith(gatewayTokenPrefix) || token.length > 256) return undefined;
  const { rows } = await pool.query<GatewayTokenRow>(
    `select tenant_id, session_id, model, token_budget from model_gateway_tokens
      where token_hash = $1 and revoked_at is null`,
    [hashApiKey(token)],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    model: row.model,
    ...(row.token_budget !== null ? { tokenBudget: Number(row.token_budget) } : {}),
  };
}

/** Revokes every live token of a session; returns how many. */
export async function revokeSessionGatewayTokens(pool: pg.Pool, sessionId: string): Promise<number> {
  const result = await pool.query(
    `update model_gateway_tokens set revoked_at = now() where session_id = $1 and revoked_at is null`,
    [sessionId],
  );
  return result.rowCount ?? 0;
}

/** Input + output tokens the session's model calls used, by the ledger. */
export async function sessionTokensUsed(pool: pg.Pool, sessionId: string): Promise<number> {
  const { rows } = await pool.query<{ used: string | null }>(
    `select sum(input_tokens + output_tokens) as used from usage_ledger
      where session_id = $1 and kind = 'model_tokens'`,
    [sessionId],
  );
  return Number(rows[0]?.used ?? 0);
}
