// Self-hosted environments: the work queue's shapes as Anthropic's API defines them (SDK `beta.environments.work`),
// and environment keys (this platform's own resource: Anthropic issues them in its console).
import { z } from 'zod';
import { maxPollBlockMs, workStates } from '../../domain/self-hosted-work.ts';
import { metadataPatchSchema } from './common.ts';

const state = z.enum(workStates);
const timestamp = z.string().nullable();

export const workItemSchema = z
  .object({
    id: z.string(),
    type: z.literal('work'),
    environment_id: z.string(),
    data: z.object({ type: z.literal('session'), id: z.string() }),
    state,
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    acknowledged_at: timestamp,
    started_at: timestamp,
    latest_heartbeat_at: timestamp,
    stop_requested_at: timestamp,
    stopped_at: timestamp,
    secret: z.string().nullable(),
  })
  .meta({ id: 'SelfHostedWork' });

export const workHeartbeatSchema = z.object({
  type: z.literal('work_heartbeat'),
  last_heartbeat: z.string(),
  lease_extended: z.boolean(),
  state,
  ttl_seconds: z.number(),
});

export const workQueueStatsSchema = z.object({
  type: z.literal('work_queue_stats'),
  depth: z.number(),
  pending: z.number(),
  oldest_queued_at: timestamp,
  workers_polling: z.number().nullable(),
});

const optionalInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

export const workPollQuerySchema = z.object({
  block_ms: optionalInt(1, maxPollBlockMs),
  reclaim_older_than_ms: optionalInt(0, 24 * 3600 * 1000),
});

export const workHeartbeatQuerySchema = z.object({
  desired_ttl_seconds: optionalInt(1, 3600),
  expected_last_heartbeat: z.string().min(1).max(64).optional(),
});

export const workStopBodySchema = z.object({ force: z.boolean().nullish() }).nullish();

export const workUpdateBodySchema = z.object({ metadata: metadataPatchSchema });

export const environmentKeyCreateSchema = z.object({ name: z.string().min(1).max(256).nullish() }).nullish();

export const environmentKeySchema = z
  .object({
    id: z.string(),
    type: z.literal('environment_key'),
    environment_id: z.string(),
    name: z.string(),
    key_hint: z.string(),
    created_at: z.string(),
    last_used_at: timestamp,
    revoked_at: timestamp,
  })
  .meta({ id: 'EnvironmentKey' });

export const environmentKeyCreatedSchema = environmentKeySchema.extend({
  /** The key itself: returned by creation only, never again. */
  key: z.string(),
});
