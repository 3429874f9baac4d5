// `Idempotency-Key` on POST (as Stripe and OpenAI take it): the first request with a key runs and its answer is kept
// for 24 h; the same key with the same method, path and body gets that answer again (`idempotent-replayed: true`),
// with a different request 409, and while the first is still running 409 too. Answers that a retry should re-run
// (5xx, 429) are not kept. Keys are scoped to the caller's tenant (an admin key: to itself). A claim left without an
// answer for `leaseSeconds` (its API process died mid-request) is taken over by the next identical request; routes
// that create something derive its ids from the key (idempotencyToken), so that run meets the first run's effect.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import {
  claimIdempotencyKey,
  releaseIdempotencyKey,
  storeIdempotentAnswer,
} from '../db/repositories/idempotency-keys.ts';
import { conflict, invalidRequest, sendError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: { scope: string; key: string; hash: string } | null;
  }
}

/**
 * A stable token for what the request with this claim creates (its `index`-th item): the same across retries of the
 * same request under the same Idempotency-Key, so that a retry after a crash produces the same ids; undefined
 * without a key.
 */
export function idempotencyToken(request: FastifyRequest, index: number): string | undefined {
  const claim = request.idempotencyClaim;
  if (!claim) return undefined;
  return createHash('sha256')
    .update(`${claim.scope}\n${claim.key}\n${claim.hash}\n${index}`)
    .digest('hex')
    .slice(0, 32);
}

const header = 'idempotency-key';

function requestHash(request: FastifyRequest): string {
  const body = request.body;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body ?? null), 'utf8');
  return createHash('sha256').update(`${request.method} ${request.url}\n`).update(bytes).digest('hex');
}

export function registerIdempotency(app: FastifyInstance, pool: pg.Pool, leaseSeconds: number): void {
  app.decorateRequest('idempotencyClaim', null);

  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers[header];
    if (request.method !== 'POST' || key === undefined || !request.caller) return;
    if (typeof key !== 'string' || key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      return sendError(request, reply, invalidRequest('Idempotency-Key must be 1–255 printable ASCII characters'));
    }
    const scope = request.caller.tenantId ?? `admin:${request.caller.keyId}`;
    const hash = requestHash(request);
    const result = await claimIdempotencyKey(pool, scope, key, hash, leaseSeconds);
    if (result.claimed) {
      request.idempotencyClaim = { scope, key, hash };
      return;
    }
    const { answer } = result;
    if (answer.requestHash !== hash) {
      return sendError(request, reply, conflict('this Idempotency-Key was used with a different request'));
    }
    if (answer.status === null) {
      return sendError(request, reply, conflict('a request with this Idempotency-Key is still in progress'));
    }
    return reply
      .code(answer.status)
      .header('content-type', answer.contentType ?? 'application/json')
      .header('idempotent-replayed', 'true')
      .send(answer.body ?? '');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotencyClaim;
    if (!claim) return payload;
    request.idempotencyClaim = null;
    const status = reply.statusCode;
    if (status >= 500 || status === 429 || typeof payload !== 'string') {
      await releaseIdempotencyKey(pool, claim.scope, claim.key);
    } else {
      const contentType = reply.getHeader('content-type');
      await storeIdempotentAnswer(pool, claim.scope, claim.key, {
        status,
        contentType: typeof contentType === 'string' ? contentType : null,
        body: payload,
      });
    }
    return payload;
  });
}
