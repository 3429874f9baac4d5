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
import { makeId } from '../domain/ids.ts';
import type { ZodApp } from './context.ts';
import { idempotencyToken } from './idempotency.ts';
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

/** The CRUD wiring of one resource; see the top of this file. Each method registers one route and returns `this`. */
export class CrudRoutes<Params extends ParamsSchema, Row, Response extends z.ZodType, ParentRow = undefined> {
  private readonly app: FastifyInstance;
  private readonly pool: pg.Pool;
  private readonly resource: CrudResource<Params, Row, Response, ParentRow>;
  private readonly itemPath: string;

  constructor(app: ZodApp, pool: pg.Pool, resource: CrudResource<Params, Row, Response, ParentRow>) {
    // Handlers get typed inputs from RouteInput; the zod type provider's inference is not needed underneath.
    this.app = app;
    this.pool = pool;
    this.resource = resource;
    this.itemPath = `${resource.path}/:${resource.kind.idParam}`;
  }

  /**
   * POST path: creates a record (a nested collection's parent must exist). Under an Idempotency-Key, for a kind with
   * an `idKind`, the handler gets the id to create (`id`, derived from the key and the request): a retry that takes
   * over a claim its first attempt left unanswered finds that attempt's row and answers it (as `replay` presents a
   * row, finishing what the first attempt may not have done; by default the row is the record) instead of creating a
   * second.
   */
  create<Body extends z.ZodType | undefined = undefined>(
    operation: Operation<undefined, Body> & {
      replay?: (row: Row, input: RouteInput<Record<string, string>>) => Output<Response> | Promise<Output<Response>>;
    },
    handler: (
      input: RouteInput<Record<string, string>, unknown, Parsed<Body>> & { parent: ParentRow; id: string | undefined },
    ) => Promise<Output<Response>>,
  ): this {
    const { summary, body, replay } = operation;
    const { path, parent, schema, kind } = this.resource;
    const parts = { summary, params: parent?.params, body, response: { 200: schema } };
    this.register('POST', path, parts, async (input: RouteInput<Record<string, string>, unknown, Parsed<Body>>) => {
      const parentRow = await this.parentOf(input);
      const token = kind.idKind && idempotencyToken(input.request, 0);
      const id = kind.idKind && token ? makeId(kind.idKind, token) : undefined;
      if (id) {
        const params = { ...input.params, [kind.idParam]: id } as z.output<Params>;
        const made = await kind.find(this.pool, input.tenantId, params);
        if (made !== undefined) return replay ? replay(made, input) : made;
      }
      return handler({ ...input, parent: parentRow, id });
    });
    return this;
  }

  /** GET path/:id: the record, by default the kind's own lookup; 404 when absent. */
  retrieve<Query extends z.ZodType | undefined = undefined>(
    operation: Operation<Query, undefined>,
    handler?: (input: RouteInput<z.output<Params>, Parsed<Query>>) => Promise<Output<Response> | undefined>,
  ): this {
    const { summary, querystring } = operation;
    const { kind, schema } = this.resource;
    const get =
      handler ??
      ((input: RouteInput<z.output<Params>>) =>
        kind.find(this.pool, input.tenantId, input.params) as Promise<Output<Response> | undefined>);
    const parts = { summary, params: kind.params, querystring, response: { 200: schema } };
    this.register('GET', this.itemPath, parts, async (input: RouteInput<z.output<Params>, Parsed<Query>>) =>
      this.found(await get(input), input.params),
    );
    return this;
  }

  /** POST path/:id: the updated record; 404 when the handler finds none. */
  update<Body extends z.ZodType>(
    operation: Operation<undefined, Body> & { body: Body },
    handler: (input: RouteInput<z.output<Params>, unknown, z.output<Body>>) => Promise<Output<Response> | undefined>,
  ): this {
    const { summary, body } = operation;
    const { kind, schema } = this.resource;
    const parts = { summary, params: kind.params, body, response: { 200: schema } };
    this.register('POST', this.itemPath, parts, async (input: RouteInput<z.output<Params>, unknown, z.output<Body>>) =>
      this.found(await handler(input), input.params),
    );
    return this;
  }

  /** GET path: a page of records (the list query by default; a nested collection's parent must exist). */
  list<Query extends z.ZodType = typeof listQuerySchema>(
    operation: Operation<Query, undefined>,
    handler: (
      input: RouteInput<Record<string, string>, z.output<Query>> & { parent: ParentRow },
    ) => Promise<Page<Output<Response>>>,
  ): this {
    const { path, parent, schema } = this.resource;
    const parts = {
      summary: operation.summary,
      params: parent?.params,
      querystring: operation.querystring ?? listQuerySchema,
      response: { 200: pageSchema(schema) },
    };
    this.register('GET', path, parts, async (input: RouteInput<Record<string, string>, z.output<Query>>) =>
      handler({ ...input, parent: await this.parentOf(input) }),
    );
    return this;
  }

  /** DELETE path/:id: `{ id, type: deletedType }`; 404 when the handler deleted nothing. */
  remove<Type extends string>(
    operation: Operation<undefined, undefined> & { deletedType: Type },
    handler: (input: RouteInput<z.output<Params>>) => Promise<boolean>,
  ): this {
    const { summary, deletedType } = operation;
    const { kind } = this.resource;
    const parts = { summary, params: kind.params, response: { 200: deletedSchema(deletedType) } };
    this.register('DELETE', this.itemPath, parts, async (input: RouteInput<z.output<Params>>) => {
      if (!(await handler(input))) throw kind.notFound(input.params);
      return { id: input.params[kind.idParam], type: deletedType };
    });
    return this;
  }

  /** POST path/:id/archive: the archived record; 404 when the handler finds none. */
  archive(
    operation: Operation<undefined, undefined>,
    handler: (input: RouteInput<z.output<Params>>) => Promise<Output<Response> | undefined>,
  ): this {
    const { kind, schema } = this.resource;
    const parts = { summary: operation.summary, params: kind.params, response: { 200: schema } };
    this.register('POST', `${this.itemPath}/archive`, parts, async (input: RouteInput<z.output<Params>>) =>
      this.found(await handler(input), input.params),
    );
    return this;
  }

  private register<P, Q, B>(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    parts: FastifySchema,
    handler: (input: RouteInput<P, Q, B>) => Promise<unknown>,
  ): void {
    const definedParts = Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined));
    this.app.route({
      method,
      url,
      schema: { tags: this.resource.tags, ...definedParts },
      handler: (request, reply) =>
        handler({
          tenantId: request.tenantId,
          params: request.params as P,
          query: request.query as Q,
          body: request.body as B,
          log: request.log,
          request,
          reply,
        }),
    });
  }

  /** The parent row of a nested collection (404 when absent), or undefined for a top-level one. */
  private async parentOf(input: RouteInput<unknown>): Promise<ParentRow> {
    const { parent } = this.resource;
    if (!parent) return undefined as ParentRow;
    return parent.require(this.pool, input.tenantId, input.params as z.output<ParamsSchema>);
  }

  private found<T>(value: T | undefined, params: z.output<Params>): T {
    if (value === undefined) throw this.resource.kind.notFound(params);
    return value;
  }
}

export const crudRoutes = <Params extends ParamsSchema, Row, Response extends z.ZodType, ParentRow = undefined>(
  app: ZodApp,
  pool: pg.Pool,
  resource: CrudResource<Params, Row, Response, ParentRow>,
): CrudRoutes<Params, Row, Response, ParentRow> => new CrudRoutes(app, pool, resource);
