// Quotas and rate limits at the API edge. Requests per second per tenant and per key are counted by
// @fastify/rate-limit (its limiter used directly, so an overrun is answered in the one error shape: 429
// `rate_limit_error` with `retry-after`). Running sessions per tenant are counted in Temporal's visibility store when
// a message would start an idle session. Limits: the tenant's and key's overrides over the platform defaults
// (domain/tenant-limits.ts), read with the key on every request.
import fastifyRateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { limitDefaults, type PlatformConfig } from '../domain/config.ts';
import { sessionWorkflowId } from '../domain/ids.ts';
import { effectiveKeyLimits, effectiveTenantLimits, type TenantLimits } from '../domain/tenant-limits.ts';
import { hashApiKey, type Caller } from '../db/repositories/api-keys.ts';
import { presentedKey } from './auth.ts';
import { ApiError, sendError } from './errors.ts';

export class QuotaExceededError extends ApiError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(429, 'rate_limit_error', message);
    this.retryAfterSeconds = retryAfterSeconds;
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
  /** Registers authentication; its hook runs between the early refusal and the counting. */
  registerAuthentication: () => void,
): Promise<Quotas> {
  const defaults = limitDefaults(config);
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
  /** The first limit the request is over (counting it, unless `peek`), or undefined. */
  const overLimit = async (request: FastifyRequest, peek = false): Promise<QuotaExceededError | undefined> => {
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
      const result = await limiter(request, { increment: !peek });
      if (!result.isAllowed && result.isExceeded) {
        return new QuotaExceededError(`rate limit: ${what} may make ${max} requests per second`, result.ttlInSeconds);
      }
    }
    return undefined;
  };

  // A flood must cost little: a key seen in the last minute whose tenant or own window is already over is refused
  // before its database lookup. Only ever used to refuse (a revoked key is refused too), never to let a request in.
  const recentCallers = new Map<string, { caller: Caller; at: number }>();
  const keyHashes = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', async (request, reply) => {
    const key = presentedKey(request);
    if (!key || key.length > 256) return;
    const hash = hashApiKey(key);
    keyHashes.set(request, hash);
    const recent = recentCallers.get(hash);
    if (!recent || Date.now() - recent.at > 60_000) return;
    request.caller = recent.caller;
    request.tenantId = recent.caller.tenantId ?? '';
    const refused = await overLimit(request, true);
    request.caller = null;
    request.tenantId = '';
    if (refused) return sendQuotaExceeded(request, reply, refused);
  });

  registerAuthentication();

  // After authentication: only callers with an API key are counted.
  app.addHook('onRequest', async (request, reply) => {
    const caller = request.caller;
    if (!caller) return;
    const hash = keyHashes.get(request);
    if (hash) {
      recentCallers.delete(hash);
      recentCallers.set(hash, { caller, at: Date.now() });
      if (recentCallers.size > 10_000) recentCallers.delete(recentCallers.keys().next().value ?? '');
    }
    const refused = await overLimit(request);
    if (refused) return sendQuotaExceeded(request, reply, refused);
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
      const { count } = await temporalClient.workflow.count(
        `WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND TenantId = '${request.tenantId}' ` +
          `AND SessionStatus IN ('running', 'rescheduling') AND WorkflowId != '${sessionWorkflowId(sessionId)}'`,
      );
      if (count >= max) {
        throw new QuotaExceededError(
          `quota: this tenant may run ${max} sessions at once (${count} running); retry when one is idle`,
          5,
        );
      }
    },
  };
}
