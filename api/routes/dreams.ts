// /v1/dreams: start a dream (a dreamWorkflow on the automation queue), get, list, cancel, archive.
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type pg from 'pg';
import {
  activeDreamWriting,
  archiveDream,
  getDreamRow,
  insertDream,
  listDreams,
  setDreamStatus,
  toDream,
  type DreamInput,
} from '../../db/repositories/dreams.ts';
import { getMemoryStore } from '../../db/repositories/memory-stores.ts';
import { withTransaction } from '../../db/transaction.ts';
import {
  dreamWorkflowId,
  dreamWorkflowType,
  finalDreamStatuses,
  type DreamWorkflowInput,
} from '../../domain/dreams.ts';
import { taskQueues, withPrefix } from '../../domain/task-queues.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { ApiError, invalidRequest, notFound } from '../errors.ts';
import { idParams, resourceKind } from '../resources.ts';
import { dreamCreateSchema, dreamListQuerySchema, dreamSchema } from '../schemas/dreams.ts';

const tags = ['dreams'];
/** Model calls a dream may make before it fails (`timeout`). */
const maxDreamSteps = 20;

const dreams = resourceKind({
  name: 'dream',
  idKind: 'dream',
  params: idParams('dream_id'),
  idParam: 'dream_id',
  find: async (pool, tenantId, params) => {
    const row = await getDreamRow(pool, tenantId, params.dream_id);
    return row ? toDream(row) : undefined;
  },
});

/** The inputs' one memory store (live, the tenant's) and sessions (the tenant's): 400/404 otherwise. */
async function checkInputs(pool: pg.Pool, tenantId: string, inputs: DreamInput[]): Promise<string> {
  const stores = inputs.flatMap((input) => (input.type === 'memory_store' ? [input.memory_store_id] : []));
  const sessionLists = inputs.flatMap((input) => (input.type === 'sessions' ? [input.session_ids] : []));
  if (stores.length !== 1 || sessionLists.length > 1) {
    throw invalidRequest('inputs take exactly one memory_store entry and at most one sessions entry');
  }
  const storeId = stores[0] as string;
  const store = await getMemoryStore(pool, tenantId, storeId);
  if (!store) throw notFound('memory store', storeId);
  if (store.archived_at) throw invalidRequest(`memory store ${storeId} is archived`);
  const sessionIds = sessionLists[0] ?? [];
  if (new Set(sessionIds).size !== sessionIds.length) throw invalidRequest('session_ids has duplicates');
  const { rows } = await pool.query<{ id: string }>('select id from sessions where tenant_id = $1 and id = any($2)', [
    tenantId,
    sessionIds,
  ]);
  const found = new Set(rows.map((row) => row.id));
  const missing = sessionIds.find((id) => !found.has(id));
  if (missing) throw notFound('session', missing);
  return storeId;
}

export function registerDreamRoutes(app: ZodApp, { pool, config }: ApiContext, temporalClient: Client): void {
  const taskQueue = withPrefix(config.AGENTS_TASK_QUEUE_PREFIX, taskQueues.automation);
  /** Starts the dream's workflow; a workflow already started (by an earlier attempt) is the one. */
  const startDream = async (tenantId: string, dreamId: string, modelId: string) => {
    const input: DreamWorkflowInput = {
      dreamId,
      tenantId,
      model: { provider: 'anthropic', id: modelId },
      taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
      maxSteps: maxDreamSteps,
    };
    await temporalClient.workflow
      .start(dreamWorkflowType, { workflowId: dreamWorkflowId(dreamId), taskQueue, args: [input] })
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      });
  };
  crudRoutes(app, pool, { kind: dreams, path: '/v1/dreams', tags, schema: dreamSchema })
    .create(
      {
        summary: 'Start a dream',
        body: dreamCreateSchema,
        // A taken-over retry: the first attempt may have died between the row and the workflow.
        replay: async (dream, { tenantId }) => {
          await startDream(tenantId, dream.id, dream.model.id);
          return dream;
        },
      },
      async ({ tenantId, body, request, id }) => {
        const storeId = await checkInputs(pool, tenantId, body.inputs);
        const behavior = body.output_behavior ?? { type: 'create_new' as const };
        if (behavior.type === 'update_existing' && behavior.memory_store_id !== storeId) {
          throw invalidRequest('update_existing must name the memory store of the inputs');
        }
        const model = typeof body.model === 'string' ? { id: body.model } : body.model;
        if (model.speed === 'fast') throw invalidRequest('dreams run at speed standard');
        const row = await withTransaction(pool, async (client) => {
          // Serialises the check below against another update_existing dream being created on the same store.
          await client.query('select 1 from memory_stores where id = $1 for update', [storeId]);
          if (behavior.type === 'update_existing') {
            const other = await activeDreamWriting(client, tenantId, storeId);
            if (other) throw new ApiError(409, 'conflict_error', `dream ${other} is still writing this memory store`);
          }
          return insertDream(
            client,
            tenantId,
            {
              inputs: body.inputs,
              instructions: body.instructions ?? null,
              model: { id: model.id, speed: 'standard' },
              output_behavior: behavior,
              apiKeyId: request.caller?.keyId ?? null,
            },
            id,
          );
        });
        await startDream(tenantId, row.id, model.id);
        return toDream(row);
      },
    )
    .retrieve({ summary: 'Get a dream (its status, output store and token usage)' })
    .list({ summary: 'List dreams', querystring: dreamListQuerySchema }, async ({ tenantId, query }) =>
      listDreams(pool, tenantId, {
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
        statuses: query['statuses[]'] ?? query.statuses,
        createdGt: query['created_at[gt]'],
        createdLt: query['created_at[lt]'],
      }),
    )
    .archive({ summary: 'Archive a completed, failed or canceled dream' }, async ({ tenantId, params }) => {
      const current = await dreams.require(pool, tenantId, params);
      if (!finalDreamStatuses.includes(current.status)) {
        throw invalidRequest(`dream ${current.id} is ${current.status}: cancel it first`);
      }
      const row = await archiveDream(pool, tenantId, current.id);
      return row && toDream(row);
    });

  app.post(
    '/v1/dreams/:dream_id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a pending or running dream',
        params: dreams.params,
        response: { 200: dreamSchema },
      },
    },
    async (request) => {
      const current = await dreams.require(pool, request.tenantId, request.params);
      if (current.status === 'completed' || current.status === 'failed') {
        throw invalidRequest(`dream ${current.id} is ${current.status}`);
      }
      const row = await setDreamStatus(pool, current.id, 'canceled');
      try {
        await temporalClient.workflow.getHandle(dreamWorkflowId(current.id)).cancel();
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      return row ? toDream(row) : current;
    },
  );
}
