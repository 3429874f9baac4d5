// /v1/webhook_endpoints (extension): endpoints receive the platform's events, signed per Standard Webhooks with a
// `whsec_…` secret shown once (on create and rotate_secret); disable/enable; the delivery log per endpoint. URLs go
// through the URL guard: private and metadata addresses are refused unless the operator allow-lists them.
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isoOrNull } from '../../db/repositories/pagination.ts';
import {
  deleteEndpoint,
  getEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  rotateSecret,
  setEndpointStatus,
  updateEndpoint,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../../db/repositories/webhooks.ts';
import { makeId } from '../../domain/ids.ts';
import { UrlRefusedError } from '../../net/url-guard.ts';
import type { ApiContext, ZodApp } from '../context.ts';
import { invalidRequest, notFound } from '../errors.ts';
import { deletedSchema, listQuerySchema, pageSchema } from '../schemas/common.ts';
import {
  webhookDeliverySchema,
  webhookEndpointCreateSchema,
  webhookEndpointSchema,
  webhookEndpointUpdateSchema,
} from '../schemas/webhooks.ts';

const params = z.object({ webhook_endpoint_id: z.string().min(1).max(128) });
const tags = ['webhooks'];

const endpointResponse = (row: WebhookEndpointRow, secret?: string) => ({
  id: row.id,
  type: 'webhook_endpoint' as const,
  url: row.url,
  description: row.description,
  event_types: row.event_types,
  status: row.status,
  disabled_reason: row.disabled_reason,
  failure_streak: row.failure_streak,
  ...(secret ? { secret } : {}),
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

const deliveryResponse = (row: WebhookDeliveryRow) => ({
  id: row.id,
  type: 'webhook_delivery' as const,
  endpoint_id: row.endpoint_id,
  event_id: row.event_id,
  event_type: row.event_type,
  subject_id: row.subject_id,
  status: row.status,
  attempts: row.attempts,
  last_status_code: row.last_status_code,
  last_error: row.last_error,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
  delivered_at: isoOrNull(row.delivered_at),
});

/** A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export function registerWebhookEndpointRoutes(app: ZodApp, context: ApiContext): void {
  const { pool, secretBox, urlGuard, config } = context;

  const requireRow = async (tenantId: string, id: string) => {
    const row = await getEndpoint(pool, tenantId, id);
    if (!row) throw notFound('webhook endpoint', id);
    return row;
  };
  const checkUrl = async (url: string) => {
    await urlGuard.check(url, { allowUnresolvable: true }).catch((error: unknown) => {
      throw error instanceof UrlRefusedError ? invalidRequest(`url: ${error.message}`) : error;
    });
  };
  const item = { params, response: { 200: webhookEndpointSchema } };

  app.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags,
        summary: 'Create a webhook endpoint (its signing secret is in this answer only)',
        body: webhookEndpointCreateSchema,
        response: { 200: webhookEndpointSchema },
      },
    },
    async ({ tenantId, body }) => {
      await checkUrl(body.url);
      const id = makeId('webhookEndpoint', randomUUID());
      const secret = newSecret();
      const row = await insertEndpoint(pool, tenantId, {
        id,
        url: body.url,
        description: body.description ?? null,
        eventTypes: body.event_types ?? [],
        secretSealed: secretBox.seal(secret, id),
      });
      return endpointResponse(row, secret);
    },
  );

  app.get(
    '/v1/webhook_endpoints/:webhook_endpoint_id',
    { schema: { tags, summary: 'Get an endpoint', ...item } },
    async (r) => endpointResponse(await requireRow(r.tenantId, r.params.webhook_endpoint_id)),
  );

  app.post(
    '/v1/webhook_endpoints/:webhook_endpoint_id',
    {
      schema: {
        tags,
        summary: 'Update an endpoint (url, description, event_types)',
        body: webhookEndpointUpdateSchema,
        ...item,
      },
    },
    async ({ tenantId, params: { webhook_endpoint_id: id }, body }) => {
      const current = await requireRow(tenantId, id);
      if (body.url !== undefined) await checkUrl(body.url);
      const row = await updateEndpoint(pool, tenantId, id, {
        url: body.url ?? current.url,
        description: body.description === undefined ? current.description : body.description,
        eventTypes: body.event_types ?? current.event_types,
      });
      if (!row) throw notFound('webhook endpoint', id);
      return endpointResponse(row);
    },
  );

  app.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags,
        summary: 'List endpoints',
        querystring: listQuerySchema,
        response: { 200: pageSchema(webhookEndpointSchema) },
      },
    },
    async ({ tenantId, query }) => {
      const page = await listEndpoints(pool, tenantId, { limit: query.limit, page: query.page });
      return { next_page: page.next_page, data: page.data.map((row) => endpointResponse(row)) };
    },
  );

  app.delete(
    '/v1/webhook_endpoints/:webhook_endpoint_id',
    {
      schema: {
        tags,
        summary: 'Delete an endpoint and its delivery log',
        params,
        response: { 200: deletedSchema('webhook_endpoint_deleted') },
      },
    },
    async ({ tenantId, params: { webhook_endpoint_id: id } }) => {
      if (!(await deleteEndpoint(pool, tenantId, id))) throw notFound('webhook endpoint', id);
      return { id, type: 'webhook_endpoint_deleted' as const };
    },
  );

  app.post(
    '/v1/webhook_endpoints/:webhook_endpoint_id/rotate_secret',
    {
      schema: {
        tags,
        summary: 'New signing secret (shown once); the old one also signs during the grace period',
        ...item,
      },
    },
    async ({ tenantId, params: { webhook_endpoint_id: id } }) => {
      await requireRow(tenantId, id);
      const secret = newSecret();
      const graceEnd = new Date(Date.now() + config.AGENTS_WEBHOOK_SECRET_GRACE_MS);
      const row = await rotateSecret(pool, tenantId, id, secretBox.seal(secret, id), graceEnd);
      if (!row) throw notFound('webhook endpoint', id);
      return endpointResponse(row, secret);
    },
  );

  for (const status of ['disabled', 'enabled'] as const) {
    app.post(
      `/v1/webhook_endpoints/:webhook_endpoint_id/${status === 'disabled' ? 'disable' : 'enable'}`,
      {
        schema: {
          tags,
          summary: status === 'disabled' ? 'Disable an endpoint' : 'Enable an endpoint (clears its failure streak)',
          ...item,
        },
      },
      async ({ tenantId, params: { webhook_endpoint_id: id } }) => {
        const reason = status === 'disabled' ? { type: 'manual' } : null;
        const row = await setEndpointStatus(pool, tenantId, id, status, reason);
        if (!row) throw notFound('webhook endpoint', id);
        return endpointResponse(row);
      },
    );
  }

  app.get(
    '/v1/webhook_endpoints/:webhook_endpoint_id/deliveries',
    {
      schema: {
        tags,
        summary: 'The endpoint’s delivery log, newest first: status, attempts, last error',
        params,
        querystring: listQuerySchema,
        response: { 200: pageSchema(webhookDeliverySchema) },
      },
    },
    async ({ tenantId, params: { webhook_endpoint_id: id }, query }) => {
      await requireRow(tenantId, id);
      const page = await listDeliveries(pool, tenantId, id, { limit: query.limit, page: query.page });
      return { next_page: page.next_page, data: page.data.map(deliveryResponse) };
    },
  );
}
