// One webhook delivery, durable and at least once: wait until the earlier deliveries of the same endpoint and subject
// have settled (per-subject ordering: a run's `started` before its `succeeded`), then attempt it under an exponential
// retry policy over hours (Temporal retries the activity; every attempt sends the same `webhook-id`). When the
// attempts run out the delivery is marked failed; an endpoint disabled meanwhile abandons it.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { createWebhookActivities } from '../activities/webhooks/activities.ts';
import { webhookAttemptFailed, type WebhookDeliveryWorkflowInput } from '../domain/webhooks.ts';

type WebhookActivities = ReturnType<typeof createWebhookActivities>;

const { awaitDeliveryTurn, settleWebhookDelivery } = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export async function webhookDeliveryWorkflow(input: WebhookDeliveryWorkflowInput): Promise<string> {
  const { retry } = input;
  await awaitDeliveryTurn(input.deliveryId);
  const { attemptWebhookDelivery } = proxyActivities<WebhookActivities>({
    startToCloseTimeout: retry.attemptTimeoutMs + 5_000,
    retry: {
      initialInterval: retry.initialMs,
      backoffCoefficient: 2,
      maximumInterval: retry.maximumMs,
      maximumAttempts: retry.maximumAttempts,
    },
    summary: `deliver ${input.deliveryId}`,
  });
  try {
    return await attemptWebhookDelivery({ deliveryId: input.deliveryId, maximumAttempts: retry.maximumAttempts });
  } catch (error) {
    const exhausted = error instanceof ActivityFailure && error.cause?.name !== 'CancelledFailure';
    if (!exhausted) throw error;
    await settleWebhookDelivery(input.deliveryId, 'failed');
    return `failed (${webhookAttemptFailed})`;
  }
}
