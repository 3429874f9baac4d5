// Webhook endpoint schemas (this platform's own resource; Anthropic configures endpoints in its console).
import { z } from 'zod';
import { webhookEventTypes } from '../../domain/webhooks.ts';

const eventTypesSchema = z.array(z.enum(webhookEventTypes)).max(webhookEventTypes.length);

export const webhookEndpointCreateSchema = z.object({
  url: z.string().min(1).max(2048),
  description: z.string().max(1024).nullish(),
  /** Empty or absent: every event type. */
  event_types: eventTypesSchema.optional(),
});

export const webhookEndpointUpdateSchema = z.object({
  url: z.string().min(1).max(2048).optional(),
  description: z.string().max(1024).nullish(),
  event_types: eventTypesSchema.optional(),
});

export const webhookEndpointSchema = z
  .object({
    id: z.string(),
    type: z.literal('webhook_endpoint'),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    status: z.enum(['enabled', 'disabled']),
    disabled_reason: z.object({ type: z.string(), failed_attempts: z.number().optional() }).nullable(),
    failure_streak: z.number(),
    /** Only in the answers to create and rotate_secret: shown once. */
    secret: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const webhookDeliverySchema = z
  .object({
    id: z.string(),
    type: z.literal('webhook_delivery'),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    subject_id: z.string(),
    status: z.enum(['pending', 'retrying', 'succeeded', 'failed', 'abandoned']),
    attempts: z.number(),
    last_status_code: z.number().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
