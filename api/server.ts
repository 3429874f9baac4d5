// The HTTP API as a Fastify instance: Anthropic-compatible routes over PostgreSQL and Temporal, zod-validated, with
// an OpenAPI 3.1 document generated from the same schemas (GET /openapi.json). Tests run it in-process on port 0.
import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type pg from 'pg';
import type { Logger } from 'pino';
import { vaultExtraKeys, vaultSecretBox } from '../db/repositories/secret-box.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { developmentVaultKey, sessionSettingsFromConfig, type PlatformConfig } from '../domain/config.ts';
import { makeId } from '../domain/ids.ts';
import { defaultSessionSettings, type SessionSettings } from '../domain/session.ts';
import { registerAuthentication } from './auth.ts';
import { registerIdempotency } from './idempotency.ts';
import { FloodGate } from './flood-gate.ts';
import { registerQuotas } from './quotas.ts';
import { registerApiMetrics } from './metrics.ts';
import type { ApiContext } from './context.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandling } from './errors.ts';
import { EventNotifier } from './event-notifier.ts';
import { createApiLogger } from './logger.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAdminEncryptionRoutes } from './routes/admin-encryption.ts';
import { createTenantKeyring, platformPayloadProtection } from '../codec/data-converter.ts';
import type { PlatformEventSink } from './deployment-runner.ts';
import { DeploymentSchedules } from './deployment-schedules.ts';
import { sessionAdmission } from './session-admission.ts';
import { WebhookDispatcher } from './webhook-dispatch.ts';
import { registerWebhookEvents } from './webhook-events.ts';
import { registerWebhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import { registerAgentRoutes } from './routes/agents.ts';
import { registerEnvironmentKeyRoutes } from './routes/environment-keys.ts';
import { registerEnvironmentWorkRoutes } from './routes/environment-work.ts';
import { registerDeploymentRunRoutes } from './routes/deployment-runs.ts';
import { registerDeploymentRoutes } from './routes/deployments.ts';
import { registerEnvironmentRoutes } from './routes/environments.ts';
import { registerDreamRoutes } from './routes/dreams.ts';
import { registerFileRoutes } from './routes/files.ts';
import { registerMemoryStoreRoutes } from './routes/memory-stores.ts';
import { registerSessionEventRoutes } from './routes/session-events.ts';
import { registerSessionStreamRoute } from './routes/session-stream.ts';
import { registerSessionThreadRoutes } from './routes/session-threads.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerSkillRoutes } from './routes/skills.ts';
import { registerTraceRoutes } from './routes/trace.ts';
import { registerUiRoutes } from './routes/ui.ts';
import { registerUsageAndHealthRoutes } from './routes/usage-and-health.ts';
import { registerUsageRoutes } from './routes/usage.ts';
import { registerVaultRoutes } from './routes/vaults.ts';
import { SessionDriver } from './session-driver.ts';
import { WorkTokens } from './work-tokens.ts';

export interface ApiOptions {
  config: PlatformConfig;
  pool: pg.Pool;
  temporalClient: Client;
  logger?: Logger;
  /** Merged over the default session settings (task-queue prefix from config); tests shorten timers here. */
  sessionSettings?: Partial<SessionSettings>;
  heartbeatMs?: number;
  /** Upper bound of one call to Temporal before the API answers 503 (default 5 s). */
  temporalTimeoutMs?: number;
}

export async function createApi(options: ApiOptions): Promise<FastifyInstance> {
  const { config, pool } = options;
  const logger = options.logger ?? createApiLogger(config);
  const baseLogger: FastifyBaseLogger = logger;
  const floodGate = new FloodGate({
    onWindowEnd: (keyHash, refused, message) =>
      logger.info({ keyHash, refused }, `flood gate: ${refused} requests refused in one window (${message})`),
  });
  const app = Fastify({
    loggerInstance: baseLogger,
    // A request the flood gate refuses writes no log lines of its own (the gate writes one per window).
    logController: new LogController({ disableRequestLogging: (request) => !!floodGate.decide(request).refusal }),
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    genReqId: () => makeId('request', randomUUID()),
    requestIdHeader: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // An empty body on a POST (the SDK's archive calls) is no body, not malformed JSON.
  const defaultJsonParser = app.getDefaultJsonParser('error', 'ignore');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    void defaultJsonParser(request, body as string, done);
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', String(request.id));
  });

  // Rate limits around authentication (a known flooding key refused before its lookup, then counting after it):
  // hooks run in registration order, before every route's.
  const workTokens = new WorkTokens(config.AGENTS_VAULT_KEY ?? developmentVaultKey, vaultExtraKeys(config));
  const quotas = await registerQuotas(app, config, options.temporalClient, floodGate, () =>
    registerAuthentication(app, pool, workTokens),
  );
  registerIdempotency(app, pool, config.AGENTS_IDEMPOTENCY_LEASE_S);
  const driver = new SessionDriver(options.temporalClient, options.temporalTimeoutMs);
  const sessionSettings: SessionSettings = {
    ...defaultSessionSettings,
    ...sessionSettingsFromConfig(config),
    ...config.AGENTS_SESSION_SETTINGS,
    ...options.sessionSettings,
  };
  const schedules = new DeploymentSchedules(options.temporalClient, {
    taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
    catchupWindowMs: config.AGENTS_DEPLOYMENT_CATCHUP_WINDOW_MS,
    timeoutMs: options.temporalTimeoutMs,
  });
  const emit: PlatformEventSink = new WebhookDispatcher(pool, options.temporalClient, config, logger).emit;
  const context: ApiContext = {
    config,
    pool,
    quotas,
    driver,
    notifier: new EventNotifier(pool, logger),
    secretBox: vaultSecretBox(config),
    urlGuard: new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST),
    workTokens,
    sessionSettings,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    schedules,
    runner: {
      pool,
      sessions: { pool, config, settings: sessionSettings, driver },
      schedules,
      emit,
      admit: sessionAdmission(pool, options.temporalClient, config),
    },
    emit,
    openStreams: new Set(),
  };
  if (!config.AGENTS_VAULT_KEY) logger.warn('AGENTS_VAULT_KEY is not set: using the development vault key');

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Managed agents on Temporal',
        description: "Shape-compatible with Anthropic's Managed Agents API (beta), plus extensions marked as such.",
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  registerErrorHandling(app);
  registerApiMetrics(app, context);
  registerWebhookEvents(app, emit);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  registerAgentRoutes(typed, context);
  registerEnvironmentRoutes(typed, context);
  registerEnvironmentKeyRoutes(typed, context);
  registerEnvironmentWorkRoutes(typed, context);
  registerSessionRoutes(typed, context);
  registerSessionEventRoutes(typed, context);
  registerSessionStreamRoute(typed, context);
  registerSessionThreadRoutes(typed, context);
  registerFileRoutes(typed, context);
  registerSkillRoutes(typed, context);
  registerMemoryStoreRoutes(typed, context);
  registerVaultRoutes(typed, context);
  registerDeploymentRoutes(typed, context);
  registerWebhookEndpointRoutes(typed, context);
  registerDeploymentRunRoutes(typed, context);
  registerUsageAndHealthRoutes(typed, context);
  registerUsageRoutes(typed, context);
  registerTraceRoutes(typed, context, options.temporalClient);
  registerDreamRoutes(typed, context, options.temporalClient);
  registerAdminRoutes(typed, context);
  registerAdminEncryptionRoutes(typed, context, createTenantKeyring(platformPayloadProtection(config, pool)));
  registerUiRoutes(typed);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('preClose', async () => {
    for (const close of [...context.openStreams]) close();
  });
  app.addHook('onClose', async () => {
    await context.notifier.close();
  });
  return app;
}
