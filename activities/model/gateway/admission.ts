// Whether a request may pass the model gateway: a live session token (never a provider key), the token's model, the
// tenant's daily token budget, the session's token budget, the session's request rate. Answers in the Anthropic
// error vocabulary, so a harness's client handles a refusal as it would the provider's.
import type { IncomingHttpHeaders } from 'node:http';
import type pg from 'pg';
import {
  findGatewayToken,
  sessionTokensUsed,
  type GatewayTokenGrant,
} from '../../../db/repositories/model-gateway-tokens.ts';
import { tenantTokenBudget } from '../../../db/repositories/usage-ledger.ts';
import type { MeteringOptions } from '../usage-metering.ts';
import type { SessionRateLimit } from './session-rate.ts';

export interface GatewayRefusal {
  status: number;
  type: string;
  message: string;
  retryAfterSeconds?: number;
}

export type Admission = { kind: 'admitted'; grant: GatewayTokenGrant } | { kind: 'refused'; refusal: GatewayRefusal };

const refused = (status: number, type: string, message: string, retryAfterSeconds?: number): Admission => ({
  kind: 'refused',
  refusal: { status, type, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) },
});

function presentedToken(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const match = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export interface AdmissionDeps {
  pool: pg.Pool;
  metering: MeteringOptions;
  rate: SessionRateLimit;
}

/** The token's grant when the request may go upstream; `model` is the request body's. */
export async function admit(deps: AdmissionDeps, headers: IncomingHttpHeaders, model: unknown): Promise<Admission> {
  const token = presentedToken(headers);
  if (!token) return refused(401, 'authentication_error', 'missing session token: send x-api-key');
  const grant = await findGatewayToken(deps.pool, token);
  if (!grant) return refused(401, 'authentication_error', 'invalid or revoked session token');
  if (typeof model !== 'string' || model === '') {
    return refused(400, 'invalid_request_error', 'model: a model id is required');
  }
  if (model !== grant.model) {
    return refused(403, 'permission_error', `this session may call only its agent's model (${grant.model})`);
  }
  const tenant = await tenantTokenBudget(deps.pool, grant.tenantId, deps.metering.defaultTokensPerDay);
  if (tenant.limit > 0 && tenant.used >= tenant.limit) {
    return refused(403, 'permission_error', `budget reached: the tenant has used its ${tenant.limit} tokens today`);
  }
  if (grant.tokenBudget !== undefined && (await sessionTokensUsed(deps.pool, grant.sessionId)) >= grant.tokenBudget) {
    return refused(403, 'permission_error', `budget reached: the session has used its ${grant.tokenBudget} tokens`);
  }
  const wait = deps.rate.take(grant.sessionId);
  if (wait !== undefined) {
    return refused(429, 'rate_limit_error', 'the session is over its model request rate', wait);
  }
  return { kind: 'admitted', grant };
}
