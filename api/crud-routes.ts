// Routes as data: the CRUD pattern every resource follows. A route file names the resource once — its kind (params
// schema + lookup, from resources.ts), its collection path, tags and response schema — then lists its operations,
// each a summary, the schemas that differ, and a handler that returns the record:
//
//   const routes = crudRoutes(app, pool, { kind: vaults, path: '/v1/vaults', tags: ['vaults'], schema: vaultSchema });
//   routes
//     .create({ summary: 'Create a vault', body: vaultCreateSchema }, ({ tenantId, body }) => createVault(...))
//     .retrieve({ summary: 'Get a vault' })                          // the kind's lookup, 404 when absent
//     .update({ summary: 'Update a vault', body: vaultUpdateSchema }, ({ tenantId, params, body }) => ...)
//     .list({ summary: 'List vaults' }, ({ tenantId, query }) => listVaults(...))
//     .remove({ summary: 'Delete a vault', deletedType: 'vault_deleted' }, ({ tenantId, params }) => deleteVault(...))
//     .archive({ summary: 'Archive a vault' }, ({ tenantId, params }) => archiveVault(...));
//
// The wiring is the same everywhere: POST path (create), GET path (list), GET/POST/DELETE path/:id (retrieve,
// update, delete), POST path/:id/archive. A handler answering `undefined` (or `false` for delete) is the kind's 404;
// delete answers `{ id, type: deletedType }`. A nested resource (`/v1/vaults/:vault_id/credentials`) names its
// `parent` kind: create and list then require the parent row first and hand it to the handler. Routes register in
// call order (the OpenAPI document lists them so). Anything else (`/content`, `/versions`) is a plain route that
// uses the kind's `params` and `require`.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type pg from 'pg';
import type { z } from 'zod';
import type { Page } from '../db/repositories/pagination.ts';
import type { ZodApp } from './context.ts';
import type { ParamsSchema, ResourceKind } from './resources.ts';
import { deletedSchema, listQuerySchema, pageSchema } from './schemas/common.ts';

/** What a handler gets: the parsed (zod-validated) parts of the request, and the request itself for the rest. */
export interface RouteInput<Params, Query = unknown, Body = unknown> {
  tenantId: string;
  params: Params;
  query: Query;
  body: Body;
  log: FastifyBaseLogger;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface Operation<Query extends z.ZodType | undefined, Body extends z.ZodType | undefined> {
  summary: string;
  querystring?: Query;
  body?: Body;
}

type Parsed<Schema> = Schema extends z.ZodType ? z.output<Schema> : undefined;

export interface CrudResource<Params extends ParamsSchema, Row, Response extends z.ZodType, ParentRow> {
  kind: ResourceKind<Params, Row>;
  /** The collection path: `/v1/vaults`, `/v1/vaults/:vault_id/credentials`. */
  path: string;
  /** For a nested resource: the kind addressed by the collection path. */
  parent?: ResourceKind<ParamsSchema, ParentRow>;
  tags: string[];
  /** The response schema of one record. */
  schema: Response;
}

type Output<Response extends z.ZodType> = z.input<Response>;

export function crudRoutes<Params extends ParamsSchema, Row, Response extends z.ZodType, ParentRow = undefined>(
  app: ZodApp,
  pool: pg.Pool,
  resource: CrudResource<Params, Row, Response, ParentRow>,
) {
  const { kind, parent, tags, schema } = resource;
  const itemPath = `${resource.path}/:${kind.idParam}`;
  const plain = app as unknown as FastifyInstance;
  type ItemParams = z.output<Params>;

  function register(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    parts: FastifySchema,
    handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  ): void {
    const definedParts = Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined));
    plain.route({ method, url, schema: { tags, ...definedParts }, handler });
  }

  const inputOf = <P, Q, B>(request: FastifyRequest, reply: FastifyReply): RouteInput<P, Q, B> => ({
    tenantId: request.tenantId,
    params: request.params as P,
    query: request.query as Q,
    body: request.body as B,
    log: request.log,
    request,
    reply,
  });

  /** The parent row of a nested collection (404 when absent), or undefined for a top-level one. */
  const parentOf = async (input: RouteInput<unknown>): Promise<ParentRow> =>
    (parent
      ? await parent.require(pool, input.tenantId, input.params as z.output<ParamsSchema>)
      : undefined) as ParentRow;

  const found = <T>(value: T | undefined, params: ItemParams): T => {
    if (value === undefined) throw kind.notFound(params);
    return value;
  };

  const routes = {
    create<Body extends z.ZodType | undefined = undefined>(
      operation: Operation<undefined, Body>,
      handler: (
        input: RouteInput<Record<string, string>, unknown, Parsed<Body>> & { parent: ParentRow },
      ) => Promise<Output<Response>>,
    ) {
      const { summary, body } = operation;
      register('POST', resource.path, { summary, params: parent?.params, body, response: { 200: schema } }, (r, s) => {
        const input = inputOf<Record<string, string>, unknown, Parsed<Body>>(r, s);
        return parentOf(input).then((row) => handler({ ...input, parent: row }));
      });
      return routes;
    },

    retrieve<Query extends z.ZodType | undefined = undefined>(
      operation: Operation<Query, undefined>,
      handler?: (input: RouteInput<ItemParams, Parsed<Query>>) => Promise<Output<Response> | undefined>,
    ) {
      const { summary, querystring } = operation;
      const get =
        handler ??
        ((input: RouteInput<ItemParams, Parsed<Query>>) =>
          kind.find(pool, input.tenantId, input.params) as Promise<Output<Response> | undefined>);
      register('GET', itemPath, { summary, params: kind.params, querystring, response: { 200: schema } }, (r, s) => {
        const input = inputOf<ItemParams, Parsed<Query>, undefined>(r, s);
        return get(input).then((value) => found(value, input.params));
      });
      return routes;
    },

    update<Body extends z.ZodType>(
      operation: Operation<undefined, Body> & { body: Body },
      handler: (input: RouteInput<ItemParams, unknown, z.output<Body>>) => Promise<Output<Response> | undefined>,
    ) {
      const { summary, body } = operation;
      register('POST', itemPath, { summary, params: kind.params, body, response: { 200: schema } }, (r, s) => {
        const input = inputOf<ItemParams, unknown, z.output<Body>>(r, s);
        return handler(input).then((value) => found(value, input.params));
      });
      return routes;
    },

    list<Query extends z.ZodType = typeof listQuerySchema>(
      operation: Operation<Query, undefined>,
      handler: (
        input: RouteInput<Record<string, string>, z.output<Query>> & { parent: ParentRow },
      ) => Promise<Page<Output<Response>>>,
    ) {
      const { summary } = operation;
      const querystring = operation.querystring ?? listQuerySchema;
      const response = { 200: pageSchema(schema) };
      register('GET', resource.path, { summary, params: parent?.params, querystring, response }, (r, s) => {
        const input = inputOf<Record<string, string>, z.output<Query>, undefined>(r, s);
        return parentOf(input).then((row) => handler({ ...input, parent: row }));
      });
      return routes;
    },

    remove<Type extends string>(
      operation: Operation<undefined, undefined> & { deletedType: Type },
      handler: (input: RouteInput<ItemParams>) => Promise<boolean>,
    ) {
      const { summary, deletedType } = operation;
      const response = { 200: deletedSchema(deletedType) };
      register('DELETE', itemPath, { summary, params: kind.params, response }, async (r, s) => {
        const input = inputOf<ItemParams, unknown, undefined>(r, s);
        if (!(await handler(input))) throw kind.notFound(input.params);
        return { id: input.params[kind.idParam], type: deletedType };
      });
      return routes;
    },

    archive(
      operation: Operation<undefined, undefined>,
      handler: (input: RouteInput<ItemParams>) => Promise<Output<Response> | undefined>,
    ) {
      const { summary } = operation;
      register('POST', `${itemPath}/archive`, { summary, params: kind.params, response: { 200: schema } }, (r, s) => {
        const input = inputOf<ItemParams, unknown, undefined>(r, s);
        return handler(input).then((value) => found(value, input.params));
      });
      return routes;
    },
  };
  return routes;
}
