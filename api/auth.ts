// Authentication: `x-api-key` or `Authorization: Bearer`; the key's tenant scopes every query of the request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { findTenantByApiKey } from '../db/repositories/tenants.ts';
import { ApiError, sendError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    tenantId: string;
  }
}

const publicPaths = new Set(['/health', '/openapi.json', '/metrics', '/ui']);
// The web page's static files; the page sends the key itself on its API calls.
const isPublicAsset = (path: string): boolean => path.startsWith('/ui/');

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}

export function registerAuthentication(app: FastifyInstance, pool: pg.Pool): void {
  app.decorateRequest('tenantId', '');
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (publicPaths.has(path) || isPublicAsset(path)) return;
    const key = presentedKey(request);
    if (!key) {
      return sendError(request, reply, new ApiError(401, 'authentication_error', 'missing API key: send x-api-key'));
    }
    const tenantId = key.length <= 256 ? await findTenantByApiKey(pool, key) : undefined;
    if (!tenantId) return sendError(request, reply, new ApiError(401, 'authentication_error', 'invalid API key'));
    request.tenantId = tenantId;
  });
}
