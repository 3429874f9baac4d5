// Model workers call model providers. Concurrency and start rate are capped per worker and per queue, so a burst of
// sessions queues in Temporal instead of overrunning a provider's rate limit. Entry: `npm run worker:model`.
import { Worker } from '@temporalio/worker';
import { attemptRecorder } from '../activities/heartbeats.ts';
import { createModelActivities, type ModelEndpoints } from '../activities/model/activities.ts';
import type { MeteringOptions } from '../activities/model/usage-metering.ts';
import { ProviderLimiter } from '../activities/model/provider-limits.ts';
import { startModelGateway } from '../activities/model/gateway/server.ts';
import { SecretBox, vaultSecretBox } from '../db/repositories/secret-box.ts';
import { developmentVaultKey } from '../domain/config.ts';
import { regionQueue, taskQueues } from '../domain/task-queues.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { startRegionHeartbeat } from './region-fleet.ts';
import {
  baseWorkerCreateOptions,
  bootstrapWorkerProcess,
  isMainModule,
  runUntilSignalled,
  workerBaseFromDeps,
  type WorkerBaseOptions,
} from './bootstrap.ts';

export interface ModelWorkerOptions extends WorkerBaseOptions {
  endpoints: ModelEndpoints;
  maxConcurrency?: number;
  maxPerSecond?: number;
  providerLimiter?: ProviderLimiter;
  /** Checks tenant model endpoints; default: public addresses only. */
  urlGuard?: UrlGuard;
  /** Opens tenant model keys from session vaults; default: the development vault key. */
  secretBox?: SecretBox;
  /** The usage ledger's price table and default daily token budget; default: built-in prices, no budget. */
  metering?: MeteringOptions;
  /** Poll this region's model queue instead of the shared one (README "Regions"). */
  region?: string;
}

export async function createModelWorker(options: ModelWorkerOptions): Promise<Worker> {
  const base = baseWorkerCreateOptions(options, regionQueue(taskQueues.model, options.region));
  return Worker.create({
    ...base,
    activities: createModelActivities({
      recordAttempt: attemptRecorder(options.connection.workflowService, base.namespace),
      pool: options.pool,
      endpoints: options.endpoints,
      limiter: options.providerLimiter,
      urlGuard: options.urlGuard,
      secretBox: options.secretBox ?? new SecretBox(developmentVaultKey),
      metering: options.metering,
    }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 20,
    maxTaskQueueActivitiesPerSecond: options.maxPerSecond,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('model-worker');
  const { config } = deps;
  const endpoints: ModelEndpoints = {
    anthropic: { apiKey: config.ANTHROPIC_API_KEY, baseUrl: config.ANTHROPIC_BASE_URL },
    openai: { apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL },
    fallbackBaseUrl: config.AGENTS_FAKE_MODEL_URL,
  };
  const urlGuard = new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST);
  const metering = {
    prices: config.AGENTS_MODEL_PRICES,
    defaultTokensPerDay: config.AGENTS_TENANT_MODEL_TOKENS_PER_DAY,
  };
  const providerLimiter = new ProviderLimiter(
    { maxConcurrent: config.AGENTS_MODEL_MAX_CONCURRENCY, maxPerSecond: config.AGENTS_MODEL_MAX_PER_SECOND },
    {
      anthropic: {
        maxConcurrent: config.AGENTS_ANTHROPIC_MAX_CONCURRENCY,
        maxPerSecond: config.AGENTS_ANTHROPIC_MAX_PER_SECOND,
      },
      openai: {
        maxConcurrent: config.AGENTS_OPENAI_MAX_CONCURRENCY,
        maxPerSecond: config.AGENTS_OPENAI_MAX_PER_SECOND,
      },
    },
  );
  const options: ModelWorkerOptions = {
    ...workerBaseFromDeps(deps),
    endpoints,
    maxConcurrency: config.AGENTS_MODEL_MAX_CONCURRENCY,
    maxPerSecond: config.AGENTS_MODEL_MAX_PER_SECOND,
    urlGuard,
    secretBox: vaultSecretBox(config),
    metering,
    providerLimiter,
  };
  // A regional model worker polls its region's queue and the shared one, which sessions fall back to (README "Regions").
  const region = config.AGENTS_REGION;
  const workers = [
    await createModelWorker(options),
    ...(region ? [await createModelWorker({ ...options, region })] : []),
  ];
  const heartbeat = region
    ? startRegionHeartbeat({
        pool: deps.pool,
        region,
        kind: 'model',
        intervalMs: config.AGENTS_REGION_HEARTBEAT_MS,
        log: deps.logger,
      })
    : undefined;
  await heartbeat?.beat();
  const gateway =
    config.AGENTS_MODEL_GATEWAY_PORT === undefined
      ? undefined
      : await startModelGateway({
          pool: deps.pool,
          endpoints,
          guard: urlGuard,
          metering,
          limiter: providerLimiter,
          requestsPerMinute: config.AGENTS_MODEL_GATEWAY_REQUESTS_PER_MINUTE,
          host: config.AGENTS_MODEL_GATEWAY_HOST,
          port: config.AGENTS_MODEL_GATEWAY_PORT,
          logger: deps.logger,
        });
  if (gateway) deps.logger.info({ url: gateway.url }, 'model gateway listening');
  deps.logger.info(
    {
      taskQueues: workers.map((worker) => worker.options.taskQueue),
      anthropic: config.ANTHROPIC_API_KEY ? 'api key' : config.AGENTS_FAKE_MODEL_URL ? 'fake model server' : 'none',
      openai: config.OPENAI_API_KEY ? 'api key' : config.AGENTS_FAKE_MODEL_URL ? 'fake model server' : 'none',
    },
    'model worker started',
  );
  await runUntilSignalled(deps, workers, async () => heartbeat?.stop());
  await gateway?.close();
}
