// Authentication: `x-api-key` or `Authorization: Bearer`. A tenant's key scopes every query of the request to its
// tenant; a `read_only` key may only read (GET/HEAD); an `admin` key reaches only /v1/admin/… (tenants and keys) and a
// tenant's key never does. A self-hosted environment's key and a work item's sessions token resolve to their tenant
// too, and reach only what api/principal.ts grants them. Keys are looked up on every request (one indexed query), so
// revocation is immediate.
import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type pg from 'pg';
import { authenticateApiKey, type Caller } from '../db/repositories/api-keys.ts';
import { environmentKeyPrefix, findEnvironmentKey } from '../db/repositories/environment-keys.ts';
import { sessionMemoryAccess } from '../db/repositories/session-memory-mounts.ts';
import { sessionPinsSkill } from '../db/repositories/sessions.ts';
import { findWorkItemById } from '../db/repositories/work-items.ts';
import { ApiError, sendError } from './errors.ts';
import { permits, runnerMemoryRoutes, runnerSkillRoutes, type Principal } from './principal.ts';
import type { WorkTokens } from './work-tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's tenant ('' for an admin key). */
    tenantId: string;
    /** The API key behind the request (null on public paths and for a runner's credentials). */
    caller: Caller | null;
    /** A self-hosted runner's credential behind the request, if that is what authenticated it. */
    principal: Principal | null;
  }
}

const publicPaths = new Set(['/health', '/openapi.json', '/metrics', '/ui']);
// The web page's static files; the page sends the key itself on its API calls.
const isPublicAsset = (path: string): boolean => path.startsWith('/ui/');
export const isAdminPath = (path: string): boolean => path === '/v1/admin' || path.startsWith('/v1/admin/');
const readMethods = new Set(['GET', 'HEAD']);

export function presentedKey(request: { headers: IncomingHttpHeaders }): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}

/** Why this caller may not make this request, or undefined when it may. */
function refusal(caller: Caller, method: string, path: string): string | undefined {
  if (isAdminPath(path)) {
    return caller.scope === 'admin' ? undefined : 'the admin routes need an admin API key';
  }
  if (caller.scope === 'admin') return "an admin key manages tenants and keys; a tenant's resources need its own key";
  if (caller.scope === 'read_only' && !readMethods.has(method)) return 'this API key is read-only';
  return undefined;
}

/** A self-hosted runner's credential (environment key or sessions token), or undefined if it is neither. */
async function resolveRunnerCredential(
  pool: pg.Pool,
  workTokens: WorkTokens,
  key: string,
): Promise<{ tenantId: string; principal: Principal } | undefined> {
  if (key.startsWith(environmentKeyPrefix)) {
    const found = await findEnvironmentKey(pool, key);
    if (found) {
      const principal: Principal = { kind: 'environment_key', environmentId: found.environmentId, keyId: found.keyId };
      return { tenantId: found.tenantId, principal };
    }
  }
  const workId = workTokens.workIdOf(key);
  if (!workId) return undefined;
  const item = await findWorkItemById(pool, workId);
  if (!item || item.record.state === 'stopped') return undefined;
  const principal: Principal = {
    kind: 'work_token',
    environmentId: item.record.environment_id,
    workId,
    sessionId: item.sessionId,
  };
  return { tenantId: item.tenantId, principal };
}

/**
 * A sessions token reaches a skill's versions only when its session's agent pins that skill, and a store's memories
 * only when the store is attached to its session (changing them only when attached read_write).
 */
async function grantsResource(
  pool: pg.Pool,
  runner: { tenantId: string; principal: Principal },
  method: string,
  url: string | undefined,
  params: Record<string, string | undefined>,
): Promise<boolean> {
  const route = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  const { principal } = runner;
  if (runnerSkillRoutes.has(route)) {
    if (principal.kind !== 'work_token' || !params.skill_id) return false;
    return sessionPinsSkill(pool, runner.tenantId, principal.sessionId, params.skill_id);
  }
  if (runnerMemoryRoutes.has(route)) {
    if (principal.kind !== 'work_token' || !params.memory_store_id) return false;
    const access = await sessionMemoryAccess(pool, runner.tenantId, principal.sessionId, params.memory_store_id);
    return access === 'read_write' || (access === 'read_only' && route.startsWith('GET '));
  }
  return true;
}

export function registerAuthentication(app: FastifyInstance, pool: pg.Pool, workTokens: WorkTokens): void {
  app.decorateRequest('tenantId', '');
  app.decorateRequest('caller', null);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (publicPaths.has(path) || isPublicAsset(path)) return;
    const key = presentedKey(request);
    if (!key) {
      return sendError(request, reply, new ApiError(401, 'authentication_error', 'missing API key: send x-api-key'));
    }
    const runner = key.length <= 256 ? await resolveRunnerCredential(pool, workTokens, key) : undefined;
    if (runner) {
      const params = (request.params ?? {}) as Record<string, string | undefined>;
      if (
        !permits(runner.principal, request.method, request.routeOptions.url, params) ||
        !(await grantsResource(pool, runner, request.method, request.routeOptions.url, params))
      ) {
        const what = runner.principal.kind === 'environment_key' ? 'an environment key' : 'a sessions token';
        return sendError(request, reply, new ApiError(403, 'permission_error', `${what} does not grant this request`));
      }
      request.principal = runner.principal;
      request.tenantId = runner.tenantId;
      return;
    }
    const caller = key.length <= 256 ? await authenticateApiKey(pool, key) : undefined;
    if (!caller) return sendError(request, reply, new ApiError(401, 'authentication_error', 'invalid API key'));
    const refused = refusal(caller, request.method, path);
    if (refused) return sendError(request, reply, new ApiError(403, 'permission_error', refused));
    request.caller = caller;
    request.tenantId = caller.tenantId ?? '';
  });
}
