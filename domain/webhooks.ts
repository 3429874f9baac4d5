// Webhooks: the Standard Webhooks envelope the SDK's `client.beta.webhooks.unwrap()` verifies, the event types this
// platform emits (a subset of the SDK's BetaWebhookEventData union, plus one extension), and the delivery workflow's
// contract.

/** Event types the platform emits. `webhook_endpoint.disabled` is this platform's extension. */
export const webhookEventTypes = [
  'agent.created',
  'agent.updated',
  'agent.archived',
  'environment.created',
  'environment.updated',
  'environment.archived',
  'environment.deleted',
  'vault.created',
  'vault.archived',
  'vault.deleted',
  'session.created',
  'session.updated',
  'session.archived',
  'session.deleted',
  'session.status_run_started',
  'session.status_idled',
  'session.requires_action',
  'session.status_rescheduled',
  'session.status_terminated',
  'deployment.created',
  'deployment.updated',
  'deployment.paused',
  'deployment.unpaused',
  'deployment.archived',
  'deployment_run.started',
  'deployment_run.succeeded',
  'deployment_run.failed',
  'webhook_endpoint.disabled',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The body POSTed to an endpoint (SDK: BetaWebhookEvent). */
export interface WebhookEventBody {
  id: string;
  type: 'event';
  created_at: string;
  data: { id: string; type: string; organization_id: string; workspace_id: string };
}

export const webhookDeliveryWorkflowType = 'webhookDeliveryWorkflow';

/** Retry schedule of one delivery: exponential from `initialMs` to `maximumMs`, `maximumAttempts` in all. */
export interface WebhookRetryPolicy {
  initialMs: number;
  maximumMs: number;
  maximumAttempts: number;
  /** One attempt's HTTP timeout; the activity's start-to-close is a little more. */
  attemptTimeoutMs: number;
}

export interface WebhookDeliveryWorkflowInput {
  deliveryId: string;
  retry: WebhookRetryPolicy;
}

/** Failure type of an attempt the endpoint refused (non-2xx, timeout, connection error): retried. */
export const webhookAttemptFailed = 'WebhookAttemptFailed';
