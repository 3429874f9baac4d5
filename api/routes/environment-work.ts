// /v1/environments/:id/work — a self-hosted environment's work queue, as Anthropic's API defines it and the official
// SDK's runner (`client.beta.environments.work.worker(...).run()`) calls it: poll (long-polls up to block_ms, hands out
// the item with its per-item `secret`), ack, heartbeat (renews the lease if `expected_last_heartbeat` matches, else
// 412 with the lease as the server holds it), stop (graceful or forced), and list, stats, retrieve, update for the
// operator. State lives in `work_items` (db/repositories/work-items.ts); README "Self-hosted environments" says why.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import {
  acknowledgeWorkItem,
  claimWorkItem,
  ensureOpenWorkItem,
  heartbeatWorkItem,
  listWorkItems,
  recordPoller,
  stopWorkItem,
  updateWorkItemMetadata,
  workQueueStats,
  type WorkItem,
} from '../../db/repositories/work-items.ts';
import { defaultReclaimAfterMs, noHeartbeat } from '../../domain/self-hosted-work.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { ApiError, conflict } from '../errors.ts';
import { environments, orNotFound, workItems } from '../resources.ts';
import { listQuerySchema, pageSchema } from '../schemas/common.ts';
import {
  workHeartbeatQuerySchema,
  workHeartbeatSchema,
  workItemSchema,
  workPollQuerySchema,
  workQueueStatsSchema,
  workStopBodySchema,
  workUpdateBodySchema,
} from '../schemas/self-hosted.ts';
import { requireSelfHostedEnvironment } from './self-hosted-environment.ts';

const params = environments.params;
const itemParams = workItems.params;
const tags = ['self-hosted work'];
const pollIntervalMs = 100;
const workerIdHeader = 'anthropic-worker-id';

export function registerEnvironmentWorkRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, workTokens, config } = context;
  const leaseTtlSeconds = config.AGENTS_WORK_LEASE_TTL_SECONDS;
  const itemKey = (tenantId: string, p: { environment_id: string; work_id: string }) => ({
    tenantId,
    environmentId: p.environment_id,
    workId: p.work_id,
  });
  const requireItem = (found: WorkItem | undefined, workId: string): WorkItem => orNotFound(found, 'work item', workId);

  app.get(
    '/v1/environments/:environment_id/work/poll',
    {
      schema: {
        tags,
        summary: 'Long-poll for a work item (environment key); it comes with its per-item secret',
        params,
        querystring: workPollQuerySchema,
        response: { 200: workItemSchema, 204: z.null() },
      },
    },
    async (request, reply) => {
      const environment = await requireSelfHostedEnvironment(pool, request.tenantId, request.params.environment_id);
      const header = request.headers[workerIdHeader];
      const workerId = typeof header === 'string' && header.length > 0 ? header.slice(0, 256) : undefined;
      if (workerId) await recordPoller(pool, environment.id, workerId);
      const reclaimAfterMs = request.query.reclaim_older_than_ms ?? defaultReclaimAfterMs;
      const deadline = Date.now() + (request.query.block_ms ?? 0);
      for (;;) {
        const claimed = await claimWorkItem(pool, request.tenantId, environment.id, workerId, reclaimAfterMs);
        if (claimed) {
          const apiBaseUrl = `${request.protocol}://${request.host}`;
          return { ...claimed.record, secret: workTokens.secretFor(claimed.record.id, apiBaseUrl) };
        }
        if (Date.now() + pollIntervalMs > deadline || request.raw.destroyed) break;
        await sleep(pollIntervalMs);
      }
      // The SDK reads an empty queue as `null` (the body of a 204 too).
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/environments/:environment_id/work/:work_id/ack',
    {
      schema: {
        tags,
        summary: 'Acknowledge a polled work item (queued → starting)',
        params: itemParams,
        response: { 200: workItemSchema },
      },
    },
    async (request) => {
      const key = itemKey(request.tenantId, request.params);
      const item = requireItem(await acknowledgeWorkItem(pool, key, leaseTtlSeconds), key.workId);
      if (item.record.state === 'stopped') throw conflict(`work item ${key.workId} is stopped`);
      return item.record;
    },
  );

  app.post(
    '/v1/environments/:environment_id/work/:work_id/heartbeat',
    {
      schema: {
        tags,
        summary: 'Renew the lease; 412 when expected_last_heartbeat is not the stored one',
        params: itemParams,
        querystring: workHeartbeatQuerySchema,
        response: { 200: workHeartbeatSchema },
      },
    },
    async (request) => {
      const key = itemKey(request.tenantId, request.params);
      const expected = request.query.expected_last_heartbeat;
      const ttl = request.query.desired_ttl_seconds ?? leaseTtlSeconds;
      const outcome = await heartbeatWorkItem(pool, key, expected === noHeartbeat ? null : (expected ?? null), ttl);
      const { item, kind } = outcome ?? { item: requireItem(undefined, key.workId), kind: 'not_renewed' };
      if (kind === 'precondition_failed') {
        throw new ApiError(
          412,
          'invalid_request_error',
          'expected_last_heartbeat does not match the stored heartbeat: another worker may hold the lease',
          { error_code: 'heartbeat_precondition_failed', current_state: item.lease },
        );
      }
      return { type: 'work_heartbeat' as const, ...item.lease, last_heartbeat: item.lease.last_heartbeat ?? '' };
    },
  );

  app.post(
    '/v1/environments/:environment_id/work/:work_id/stop',
    {
      schema: {
        tags,
        summary: 'Stop a work item: graceful (stopping, the runner winds down) or forced (stopped now)',
        params: itemParams,
        body: workStopBodySchema,
        response: { 200: workItemSchema },
      },
    },
    async (request) => {
      const key = itemKey(request.tenantId, request.params);
      const outcome = await stopWorkItem(pool, key, request.body?.force ?? false);
      const { item } = outcome ?? { item: requireItem(undefined, key.workId) };
      if (outcome?.kind === 'already_stopped') throw conflict(`work item ${key.workId} is already stopped`);
      if (item.record.state === 'stopped') await requeueIfAwaited(context, item, request.log);
      return item.record;
    },
  );

  registerOperatorRoutes(app, context);
}

/**
 * A stopped item whose session still awaits a runner's results (the runner left just as a new turn began) is
 * replaced at once by a new queued item, so the session is not left waiting with no item to poll.
 */
async function requeueIfAwaited(context: ApiContext, item: WorkItem, log: FastifyBaseLogger): Promise<void> {
  try {
    const view = await context.driver.state(item.sessionId);
    if (!view?.pendingActions.some((action) => action.kind === 'tool_result')) return;
    await ensureOpenWorkItem(context.pool, {
      tenantId: item.tenantId,
      environmentId: item.record.environment_id,
      sessionId: item.sessionId,
    });
  } catch (error) {
    log.warn({ err: error, work_id: item.record.id }, 'could not check whether the session still awaits a runner');
  }
}

function registerOperatorRoutes(app: ZodApp, { pool }: ApiContext): void {
  app.get(
    '/v1/environments/:environment_id/work',
    {
      schema: {
        tags,
        summary: 'List work items (newest first)',
        params,
        querystring: listQuerySchema,
        response: { 200: pageSchema(workItemSchema) },
      },
    },
    async (request) => {
      const environment = await requireSelfHostedEnvironment(pool, request.tenantId, request.params.environment_id);
      return listWorkItems(pool, request.tenantId, environment.id, request.query);
    },
  );

  app.get(
    '/v1/environments/:environment_id/work/stats',
    {
      schema: {
        tags,
        summary: 'Work queue statistics: backlog, polled-not-acknowledged, workers polling in the last 30 s',
        params,
        response: { 200: workQueueStatsSchema },
      },
    },
    async (request) => {
      const environment = await requireSelfHostedEnvironment(pool, request.tenantId, request.params.environment_id);
      return workQueueStats(pool, request.tenantId, environment.id, defaultReclaimAfterMs);
    },
  );

  app.get(
    '/v1/environments/:environment_id/work/:work_id',
    { schema: { tags, summary: 'Retrieve a work item', params: itemParams, response: { 200: workItemSchema } } },
    async (request) => (await workItems.require(pool, request.tenantId, request.params)).record,
  );

  app.post(
    '/v1/environments/:environment_id/work/:work_id',
    {
      schema: {
        tags,
        summary: "Update a work item's metadata (merge; null deletes a key)",
        params: itemParams,
        body: workUpdateBodySchema,
        response: { 200: workItemSchema },
      },
    },
    async (request) => {
      const { environment_id, work_id } = request.params;
      const key = { tenantId: request.tenantId, environmentId: environment_id, workId: work_id };
      const item = await updateWorkItemMetadata(pool, key, (current) => patchMetadata(current, request.body.metadata));
      return orNotFound(item, 'work item', work_id).record;
    },
  );
}
