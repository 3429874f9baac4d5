// Webhook delivery attempts: sign the stored event per Standard Webhooks (`webhook-id` = the delivery's id, stable
// across retries; `webhook-timestamp`; `webhook-signature` with the current secret, and the previous one during a
// rotation's grace period), POST it through the URL guard, record the attempt. A non-2xx answer, a timeout or a
// connection error is a retryable failure; a long enough failure streak disables the endpoint and records a
// `webhook_endpoint.disabled` event for the tenant's other endpoints.
import { ApplicationFailure, Context, heartbeat, sleep } from '@temporalio/activity';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import {
  getDeliveryWithEndpoint,
  predecessorsSettled,
  recordAttempt,
  recordWebhookEvent,
  setEndpointStatus,
  settleDelivery,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from '../../db/repositories/webhooks.ts';
import { webhookAttemptFailed, type WebhookEventBody } from '../../domain/webhooks.ts';

export interface WebhookActivityDeps {
  pool: pg.Pool;
  secretBox: SecretBox;
  /** fetch() through the URL guard (net/url-guard.ts). */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  attemptTimeoutMs: number;
  disableAfterFailures: number;
  /** Builds the body of a platform event (api/webhook-dispatch.ts's webhookEvent). */
  eventBody: (tenantId: string, type: string, subjectId: string, eventKey: string) => WebhookEventBody;
}

/** The signatures an attempt carries: the current secret, and the rotated-out one while its grace lasts. */
function signatures(deps: WebhookActivityDeps, endpoint: WebhookEndpointRow, id: string, at: Date, body: string) {
  const secrets = [deps.secretBox.open(endpoint.secret_sealed, endpoint.id)];
  if (
    endpoint.previous_secret_sealed &&
    endpoint.previous_secret_expires_at &&
    endpoint.previous_secret_expires_at > at
  ) {
    secrets.push(deps.secretBox.open(endpoint.previous_secret_sealed, endpoint.id));
  }
  return secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' ');
}

async function post(deps: WebhookActivityDeps, endpoint: WebhookEndpointRow, delivery: WebhookDeliveryRow) {
  const body = JSON.stringify(delivery.payload);
  const at = new Date();
  try {
    const response = await deps.fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'temporal-managed-agents-webhooks',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signatures(deps, endpoint, delivery.id, at, body),
      },
      body,
      signal: AbortSignal.timeout(deps.attemptTimeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel().catch(() => undefined);
    return response.ok
      ? { statusCode: response.status, error: null }
      : { statusCode: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { statusCode: null, error: message.slice(0, 500) };
  }
}

async function disableEndpoint(deps: WebhookActivityDeps, endpoint: WebhookEndpointRow, streak: number) {
  await setEndpointStatus(deps.pool, endpoint.tenant_id, endpoint.id, 'disabled', {
    type: 'failure_streak',
    failed_attempts: streak,
  });
  const key = `${endpoint.id}:disabled:${streak}`;
  await recordWebhookEvent(
    deps.pool,
    endpoint.tenant_id,
    deps.eventBody(endpoint.tenant_id, 'webhook_endpoint.disabled', endpoint.id, key),
  );
}

export function createWebhookActivities(deps: WebhookActivityDeps) {
  return {
    /** Waits (heartbeating) until every earlier delivery of the same endpoint and subject has settled. */
    async awaitDeliveryTurn(deliveryId: string): Promise<void> {
      for (;;) {
        const found = await getDeliveryWithEndpoint(deps.pool, deliveryId);
        if (!found || (await predecessorsSettled(deps.pool, found.delivery))) return;
        heartbeat();
        await sleep(500);
      }
    },

    /** One attempt; throws (retryable) when the endpoint did not take it. Returns the delivery's final status. */
    async attemptWebhookDelivery(input: { deliveryId: string; maximumAttempts: number }): Promise<string> {
      const found = await getDeliveryWithEndpoint(deps.pool, input.deliveryId);
      if (!found) return 'gone';
      const { delivery, endpoint } = found;
      if (delivery.status === 'succeeded' || delivery.status === 'failed' || delivery.status === 'abandoned') {
        return delivery.status;
      }
      if (endpoint.status !== 'enabled') {
        await settleDelivery(deps.pool, delivery.id, 'abandoned');
        return 'abandoned';
      }
      const outcome = await post(deps, endpoint, delivery);
      const last = Context.current().info.attempt >= input.maximumAttempts;
      const status = outcome.error === null ? 'succeeded' : last ? 'failed' : 'retrying';
      const streak = await recordAttempt(deps.pool, delivery, { status, ...outcome });
      if (status !== 'retrying') return status;
      if (streak >= deps.disableAfterFailures) {
        await disableEndpoint(deps, endpoint, streak);
        await settleDelivery(deps.pool, delivery.id, 'abandoned');
        return 'abandoned';
      }
      throw ApplicationFailure.retryable(`endpoint answered: ${outcome.error}`, webhookAttemptFailed);
    },

    async settleWebhookDelivery(deliveryId: string, status: 'failed' | 'abandoned'): Promise<void> {
      await settleDelivery(deps.pool, deliveryId, status);
    },
  };
}
