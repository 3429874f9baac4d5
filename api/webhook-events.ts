// Which API calls announce a webhook event: one table, applied after a route answered 200 (an onSend hook), so route
// files stay about their resource. The subject is the answered object's `id` (or the path id for a delete).
// Deployment runs and auto-pauses are announced by the runner (api/deployment-runner.ts), not here.
import type { FastifyInstance } from 'fastify';
import type { WebhookEventType } from '../domain/webhooks.ts';
import type { PlatformEventSink } from './deployment-runner.ts';

const routeEvents: Record<string, WebhookEventType> = {
  'POST /v1/agents': 'agent.created',
  'POST /v1/agents/:agent_id': 'agent.updated',
  'POST /v1/agents/:agent_id/archive': 'agent.archived',
  'POST /v1/environments': 'environment.created',
  'POST /v1/environments/:environment_id': 'environment.updated',
  'POST /v1/environments/:environment_id/archive': 'environment.archived',
  'DELETE /v1/environments/:environment_id': 'environment.deleted',
  'POST /v1/vaults': 'vault.created',
  'POST /v1/vaults/:vault_id/archive': 'vault.archived',
  'DELETE /v1/vaults/:vault_id': 'vault.deleted',
  'POST /v1/sessions': 'session.created',
  'POST /v1/sessions/:session_id': 'session.updated',
  'POST /v1/sessions/:session_id/archive': 'session.archived',
  'DELETE /v1/sessions/:session_id': 'session.deleted',
  'POST /v1/deployments': 'deployment.created',
  'POST /v1/deployments/:deployment_id': 'deployment.updated',
  'POST /v1/deployments/:deployment_id/pause': 'deployment.paused',
  'POST /v1/deployments/:deployment_id/unpause': 'deployment.unpaused',
  'POST /v1/deployments/:deployment_id/archive': 'deployment.archived',
};

export function registerWebhookEvents(app: FastifyInstance, emit: PlatformEventSink): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const type = routeEvents[`${request.method} ${request.routeOptions.url ?? ''}`];
    if (!type || reply.statusCode !== 200 || typeof payload !== 'string' || !request.tenantId) return payload;
    let subjectId: string | undefined;
    try {
      subjectId = (JSON.parse(payload) as { id?: unknown }).id as string | undefined;
    } catch {
      return payload;
    }
    if (typeof subjectId !== 'string') return payload;
    // Recorded before the answer leaves: a client that saw 200 can count on the event being delivered.
    await emit(request.tenantId, type, subjectId).catch((error: unknown) =>
      request.log.error({ err: error, type, subjectId }, 'webhook event not recorded'),
    );
    return payload;
  });
}
