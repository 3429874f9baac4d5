// Webhook emission: an event becomes one delivery row per matching endpoint (PostgreSQL, durable at once), then one
// `webhookDeliveryWorkflow` per delivery (workflow id `webhook-<delivery id>`, so starting twice is harmless). If
// Temporal cannot be reached the rows stay undispatched and an automation worker's sweep starts them later.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { markDispatched, recordWebhookEvent, undispatchedDeliveries } from '../db/repositories/webhooks.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { makeId } from '../domain/ids.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import {
  webhookDeliveryWorkflowType,
  type WebhookDeliveryWorkflowInput,
  type WebhookEventBody,
  type WebhookRetryPolicy,
} from '../domain/webhooks.ts';
import type { PlatformEventSink } from './deployment-runner.ts';

export const webhookRetryPolicy = (config: PlatformConfig): WebhookRetryPolicy => ({
  initialMs: config.AGENTS_WEBHOOK_RETRY_INITIAL_MS,
  maximumMs: config.AGENTS_WEBHOOK_RETRY_MAX_MS,
  maximumAttempts: config.AGENTS_WEBHOOK_MAX_ATTEMPTS,
  attemptTimeoutMs: config.AGENTS_WEBHOOK_ATTEMPT_TIMEOUT_MS,
});

/** The event body; an `eventKey` makes its id deterministic (a retried emitter records the event once). */
export function webhookEvent(tenantId: string, type: string, subjectId: string, eventKey?: string): WebhookEventBody {
  const random = eventKey
    ? createHash('sha256').update(`${tenantId}:${eventKey}`).digest('hex').slice(0, 32)
    : randomUUID();
  return {
    id: makeId('webhookEvent', random),
    type: 'event',
    created_at: new Date().toISOString(),
    data: { id: subjectId, type, organization_id: tenantId, workspace_id: tenantId },
  };
}

export class WebhookDispatcher {
  private readonly pool: pg.Pool;
  private readonly client: Client;
  private readonly config: PlatformConfig;
  private readonly logger: Logger | undefined;

  constructor(pool: pg.Pool, client: Client, config: PlatformConfig, logger?: Logger) {
    this.pool = pool;
    this.client = client;
    this.config = config;
    this.logger = logger;
  }

  readonly emit: PlatformEventSink = async (tenantId, type, subjectId, eventKey) => {
    const deliveryIds = await recordWebhookEvent(
      this.pool,
      tenantId,
      webhookEvent(tenantId, type, subjectId, eventKey),
    );
    await this.dispatch(deliveryIds).catch((error: unknown) =>
      this.logger?.warn({ err: error, deliveryIds }, 'webhook deliveries not started yet: the sweep will'),
    );
  };

  async dispatch(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    const retry = webhookRetryPolicy(this.config);
    for (const deliveryId of deliveryIds) {
      const input: WebhookDeliveryWorkflowInput = { deliveryId, retry };
      await this.client
        .withDeadline(Date.now() + 5_000, () =>
          this.client.workflow.start(webhookDeliveryWorkflowType, {
            workflowId: `webhook-${deliveryId}`,
            taskQueue: withPrefix(this.config.AGENTS_TASK_QUEUE_PREFIX, taskQueues.automation),
            args: [input],
            staticSummary: `webhook delivery ${deliveryId}`,
          }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        });
    }
    await markDispatched(this.pool, deliveryIds);
  }

  /** Starts the deliveries no emitter could start (run periodically by automation workers). */
  async sweep(olderThanMs = 5_000): Promise<void> {
    await this.dispatch(await undispatchedDeliveries(this.pool, olderThanMs));
  }
}
