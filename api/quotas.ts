// Quotas and rate limits at the API edge. Requests per second per tenant and per key are counted by
// @fastify/rate-limit (its limiter used directly, so an overrun is answered in the one error shape: 429
// `rate_limit_error` with `retry-after`); a refused key's further requests in that window are refused by the flood
// gate (api/flood-gate.ts) before authentication. Running sessions per tenant are counted in Temporal's visibility store when
// a message would start an idle session (a count well under the limit reused for a moment: api/running-sessions.ts). Limits: the tenant's and key's overrides over the platform defaults
// (domain/tenant-limits.ts), read with the key on every request.
import fastifyRateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limitDefaults, type PlatformConfig } from '../domain/config.ts';
import { sessionWorkflowId } from '../domain/ids.ts';
import { effectiveKeyLimits, effectiveTenantLimits, type TenantLimits } from '../domain/tenant-limits.ts';
import { ApiError, sendError } from './errors.ts';
import type { FloodGate } from './flood-gate.ts';
import { RunningSessionCounter } from './running-sessions.ts';

export class QuotaExceededError extends ApiError {
  readonly retryAfterSeconds: number;
  /** Until the refused window ends, in ms (the flood gate stays closed that long). */
  readonly windowMs: number;

  constructor(message: string, retryAfterSeconds: number, windowMs = retryAfterSeconds * 1000) {
    super(429, 'rate_limit_error', message);
    this.retryAfterSeconds = retryAfterSeconds;
    this.windowMs = windowMs;
  }
}

/** Answers a quota overrun: 429 in the error shape, `retry-after` in whole seconds (at least 1). */
export function sendQuotaExceeded(
  request: FastifyRequest,
  reply: FastifyReply,
  error: QuotaExceededError,
): FastifyReply {
  reply.header('retry-after', String(Math.max(1, error.retryAfterSeconds)));
  return sendError(request, reply, error);
}

export interface Quotas {
  /** The caller's tenant limits (defaults merged with its overrides). */
  tenantLimits(request: FastifyRequest): TenantLimits;
  /** Throws QuotaExceededError when one more running session would exceed the tenant's limit. */
  assertCanStartSession(request: FastifyRequest, sessionId: string): Promise<void>;
}

export async function registerQuotas(
  app: FastifyInstance,
  config: PlatformConfig,
  temporalClient: Client,
  gate: FloodGate,
  /** Registers authentication; its hook runs between the early refusal and the counting. */
  registerAuthentication: () => void,
): Promise<Quotas> {
  const defaults = limitDefaults(config);
  const runningSessions = new RunningSessionCounter(async (tenantId, sessionId) => {
    const { count } = await temporalClient.workflow.count(
      `WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND TenantId = '${tenantId}' ` +
        `AND SessionStatus IN ('running', 'rescheduling') AND WorkflowId != '${sessionWorkflowId(sessionId)}'`,
    );
    return count;
  });
  const tenantLimits = (request: FastifyRequest) => effectiveTenantLimits(defaults, request.caller?.tenantLimits ?? {});
  const keyLimits = (request: FastifyRequest) => effectiveKeyLimits(defaults, request.caller?.keyLimits ?? {});

  await app.register(fastifyRateLimit, { global: false, cache: 20_000 });
  const perTenant = app.createRateLimit({
    keyGenerator: (request) => `tenant:${request.tenantId}`,
    max: (request) => tenantLimits(request).requests_per_second,
    timeWindow: 1_000,
  });
  const perKey = app.createRateLimit({
    keyGenerator: (request) => `key:${request.caller?.keyId ?? ''}`,
    max: (request) => keyLimits(request).requests_per_second,
    timeWindow: 1_000,
  });
  /** The first limit the request is over (counting it), or undefined. */
  const overLimit = async (request: FastifyRequest): Promise<QuotaExceededError | undefined> => {
    const checks = [
      { limiter: perKey, max: keyLimits(request).requests_per_second, what: 'this API key' },
      {
        limiter: perTenant,
        max: request.caller?.tenantId ? tenantLimits(request).requests_per_second : 0,
        what: 'this tenant',
      },
    ];
    for (const { limiter, max, what } of checks) {
      if (max === 0) continue;
      const result = await limiter(request);
      if (!result.isAllowed && result.isExceeded) {
        const message = `rate limit: ${what} may make ${max} requests per second`;
        return new QuotaExceededError(message, result.ttlInSeconds, result.ttl);
      }
    }
    return undefined;
  };

  // A flood must cost little: a key whose window is closed is refused by the gate (api/flood-gate.ts) before its
  // database lookup, its log lines and its body.
  app.addHook('onRequest', async (request, reply) => {
    const { keyHash, refusal } = gate.decide(request);
    if (!keyHash || !refusal) return;
    if (refusal.holdMs > 0) {
      const release = gate.hold(keyHash);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, refusal.holdMs);
        request.raw.once('close', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      }).finally(release);
    }
    return sendQuotaExceeded(request, reply, new QuotaExceededError(refusal.message, refusal.retryAfterSeconds));
  });

  registerAuthentication();

  // After authentication: only callers with an API key are counted.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.caller) return;
    const refused = await overLimit(request);
    if (!refused) return;
    const { keyHash } = gate.decide(request);
    if (keyHash) gate.close(keyHash, refused.windowMs, refused.message);
    return sendQuotaExceeded(request, reply, refused);
  });

  // A quota error thrown by a route reaches the one error handler; this hook (run before it) adds its retry-after.
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof QuotaExceededError) reply.header('retry-after', String(Math.max(1, error.retryAfterSeconds)));
  });

  return {
    tenantLimits,
    async assertCanStartSession(request, sessionId) {
      const max = tenantLimits(request).max_running_sessions;
      if (max === 0) return;
      // Visibility is eventually consistent: a burst can overshoot by the sessions starting at that very moment.
      const { admitted, count } = await runningSessions.admit(request.tenantId, sessionId, max);
      if (!admitted) {
        throw new QuotaExceededError(
          `quota: this tenant may run ${max} sessions at once (${count} running); retry when one is idle`,
          5,
        );
      }
    },
  };
}
