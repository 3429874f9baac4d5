// /v1/memory_stores, their memories (by id, addressed by path) and memory versions (list, get, redact). Every write
// through the API is a memory version whose author is the calling API key (created_by: api_actor).
import type { FastifyRequest } from 'fastify';
import {
  createMemory,
  deleteMemory,
  listMemories,
  toMemory,
  updateMemory,
  type MemoryActor,
} from '../../db/repositories/memories.ts';
import {
  archiveMemoryStore,
  createMemoryStore,
  deleteMemoryStore,
  listMemoryStores,
  updateMemoryStore,
} from '../../db/repositories/memory-stores.ts';
import { getMemoryVersion, listMemoryVersions, redactMemoryVersion } from '../../db/repositories/memory-versions.ts';
import { patchMetadata } from '../../db/repositories/pagination.ts';
import { memoryContentProblem, memoryPathProblem } from '../../domain/memory.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { crudRoutes } from '../crud-routes.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { memories, memoryStores, pathIdSchema } from '../resources.ts';
import { pageSchema } from '../schemas/common.ts';
import {
  memoryCreateSchema,
  memoryDeleteQuerySchema,
  memoryListItemSchema,
  memoryListQuerySchema,
  memorySchema,
  memoryStoreCreateSchema,
  memoryStoreListQuerySchema,
  memoryStoreSchema,
  memoryStoreUpdateSchema,
  memoryUpdateSchema,
  memoryVersionListQuerySchema,
  memoryVersionSchema,
  viewQuerySchema,
} from '../schemas/memory-stores.ts';

const tags = ['memory stores'];

/** The API key behind the request, as a memory version's author. */
const apiActor = (request: FastifyRequest): MemoryActor & { type: 'api_actor' } => ({
  type: 'api_actor',
  api_key_id: request.caller?.keyId ?? '',
});

/** Who writes: a self-hosted runner syncing its session's store (its sessions token), else the API key. */
const writer = (request: FastifyRequest): MemoryActor =>
  request.principal?.kind === 'work_token'
    ? { type: 'session_actor', session_id: request.principal.sessionId }
    : apiActor(request);

function checkPath(path: string): string {
  const problem = memoryPathProblem(path);
  if (problem) throw invalidRequest(problem);
  return path;
}

function checkContent(content: string): string {
  const problem = memoryContentProblem(content);
  if (problem) throw invalidRequest(problem);
  return content;
}

/** With `view=full` a list page holds at most 20 items. */
const pageLimit = (limit: number, view: string | undefined) => (view === 'full' ? Math.min(limit, 20) : limit);

export function registerMemoryStoreRoutes(app: ZodApp, { pool }: ApiContext): void {
  crudRoutes(app, pool, { kind: memoryStores, path: '/v1/memory_stores', tags, schema: memoryStoreSchema })
    .create({ summary: 'Create a memory store', body: memoryStoreCreateSchema }, async ({ tenantId, body, id }) =>
      createMemoryStore(
        pool,
        tenantId,
        { name: body.name, description: body.description ?? '', metadata: body.metadata ?? {} },
        id,
      ),
    )
    .retrieve({ summary: 'Get a memory store' })
    .update({ summary: 'Update a memory store', body: memoryStoreUpdateSchema }, async ({ tenantId, params, body }) => {
      const current = await memoryStores.require(pool, tenantId, params);
      if (current.archived_at) throw invalidRequest(`memory store ${current.id} is archived`);
      return updateMemoryStore(pool, tenantId, current.id, {
        name: body.name ?? current.name,
        description: body.description ?? current.description,
        metadata: patchMetadata(current.metadata, body.metadata),
      });
    })
    .list({ summary: 'List memory stores', querystring: memoryStoreListQuerySchema }, async ({ tenantId, query }) =>
      listMemoryStores(pool, tenantId, {
        limit: query.limit,
        page: query.page,
        includeArchived: query.include_archived,
        createdGte: query['created_at[gte]'],
        createdLte: query['created_at[lte]'],
      }),
    )
    .remove(
      { summary: 'Delete a memory store with its memories and versions', deletedType: 'memory_store_deleted' },
      async ({ tenantId, params }) => deleteMemoryStore(pool, tenantId, params.memory_store_id),
    )
    .archive({ summary: 'Archive a memory store' }, async ({ tenantId, params }) =>
      archiveMemoryStore(pool, tenantId, params.memory_store_id),
    );

  crudRoutes(app, pool, {
    kind: memories,
    parent: memoryStores,
    path: '/v1/memory_stores/:memory_store_id/memories',
    tags,
    schema: memorySchema,
  })
    .create(
      {
        summary: 'Create a memory',
        body: memoryCreateSchema,
        replay: (row, { request }) => toMemory(row, viewOf(request)),
      },
      async ({ tenantId, body, parent, request, id }) => {
        const fields = { path: checkPath(body.path), content: checkContent(body.content ?? '') };
        const row = await createMemory(pool, tenantId, parent.id, fields, writer(request), id);
        if (!row) throw notFound('memory store', parent.id);
        return toMemory(row, viewOf(request));
      },
    )
    .retrieve({ summary: 'Get a memory', querystring: viewQuerySchema }, async ({ tenantId, params, query }) => {
      const row = await memories.find(pool, tenantId, params);
      return row ? toMemory(row, query.view ?? 'full') : undefined;
    })
    .update(
      { summary: 'Update a memory (content, path, or both)', body: memoryUpdateSchema },
      async ({ tenantId, params, body, request }) => {
        await memoryStores.require(pool, tenantId, params);
        const row = await updateMemory(
          pool,
          tenantId,
          { storeId: params.memory_store_id, memoryId: params.memory_id },
          {
            ...(body.path ? { path: checkPath(body.path) } : {}),
            ...(typeof body.content === 'string' ? { content: checkContent(body.content) } : {}),
            ...(body.precondition?.content_sha256 ? { expectedSha256: body.precondition.content_sha256 } : {}),
          },
          writer(request),
        );
        return row ? toMemory(row, viewOf(request)) : undefined;
      },
    )
    .remove({ summary: 'Delete a memory', deletedType: 'memory_deleted' }, async ({ tenantId, params, request }) => {
      await memoryStores.require(pool, tenantId, params);
      const { expected_content_sha256: expected } = memoryDeleteQuerySchema.parse(request.query ?? {});
      return deleteMemory(
        pool,
        tenantId,
        { storeId: params.memory_store_id, memoryId: params.memory_id },
        expected,
        writer(request),
      );
    });

  registerPlainRoutes(app, pool);
}

/** `view` from the query of a create or update (default basic). */
const viewOf = (request: FastifyRequest): 'basic' | 'full' =>
  viewQuerySchema.safeParse(request.query ?? {}).data?.view ?? 'basic';

/** The list of memories (its items are memories or prefixes) and the versions' routes. */
function registerPlainRoutes(app: ZodApp, pool: ApiContext['pool']): void {
  const versionParams = memoryStores.params.extend({ memory_version_id: pathIdSchema });
  const versionPath = '/v1/memory_stores/:memory_store_id/memory_versions';
  app.get(
    '/v1/memory_stores/:memory_store_id/memories',
    {
      schema: {
        tags,
        summary: 'List memories (with depth 1, deeper paths roll up into memory_prefix items)',
        params: memoryStores.params,
        querystring: memoryListQuerySchema,
        response: { 200: pageSchema(memoryListItemSchema) },
      },
    },
    async (request) => {
      const store = await memoryStores.require(pool, request.tenantId, request.params);
      const query = request.query;
      return listMemories(pool, store.id, {
        limit: pageLimit(query.limit, query.view),
        page: query.page,
        prefix: query.path_prefix ?? '/',
        depth: query.depth,
        view: query.view ?? 'basic',
      });
    },
  );
  app.get(
    versionPath,
    {
      schema: {
        tags,
        summary: "List a memory store's versions, newest first",
        params: memoryStores.params,
        querystring: memoryVersionListQuerySchema,
        response: { 200: pageSchema(memoryVersionSchema) },
      },
    },
    async (request) => {
      const store = await memoryStores.require(pool, request.tenantId, request.params);
      const query = request.query;
      // No service accounts here: a filter on one matches nothing.
      if (query.service_account_id) return { data: [], next_page: null };
      return listMemoryVersions(pool, store.id, {
        limit: pageLimit(query.limit, query.view),
        page: query.page,
        memoryId: query.memory_id,
        operation: query.operation,
        apiKeyId: query.api_key_id,
        sessionId: query.session_id,
        createdGte: query['created_at[gte]'],
        createdLte: query['created_at[lte]'],
        view: query.view ?? 'basic',
      });
    },
  );
  app.get(
    `${versionPath}/:memory_version_id`,
    {
      schema: {
        tags,
        summary: 'Get a memory version',
        params: versionParams,
        querystring: viewQuerySchema,
        response: { 200: memoryVersionSchema },
      },
    },
    async (request) => {
      const store = await memoryStores.require(pool, request.tenantId, request.params);
      const version = await getMemoryVersion(
        pool,
        store.id,
        request.params.memory_version_id,
        request.query.view ?? 'full',
      );
      if (!version) throw notFound('memory version', request.params.memory_version_id);
      return version;
    },
  );
  app.post(
    `${versionPath}/:memory_version_id/redact`,
    {
      schema: {
        tags,
        summary: 'Redact a memory version: its content is removed everywhere it was stored; the record stays',
        params: versionParams,
        response: { 200: memoryVersionSchema },
      },
    },
    async (request) => {
      const { memory_store_id: storeId, memory_version_id: versionId } = request.params;
      await memoryStores.require(pool, request.tenantId, request.params);
      const actor = apiActor(request);
      const version = await redactMemoryVersion(pool, request.tenantId, { storeId, versionId }, actor);
      if (!version) throw notFound('memory version', versionId);
      return version;
    },
  );
}
