// Model workers call model providers. Concurrency and start rate are capped per worker and per queue, so a burst of
// sessions queues in Temporal instead of overrunning a provider's rate limit. Entry: `npm run worker:model`.
import { Worker, type NativeConnection, type WorkerPlugin } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type pg from 'pg';
import { createModelActivities, type ModelEndpoints } from '../activities/model/activities.ts';
import type { MeteringOptions } from '../activities/model/usage-metering.ts';
import { ProviderLimiter } from '../activities/model/provider-limits.ts';
import { SecretBox } from '../db/repositories/secret-box.ts';
import { developmentVaultKey } from '../domain/config.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';

export interface ModelWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueuePrefix: string;
  pool: pg.Pool;
  dataConverter: DataConverter;
  endpoints: ModelEndpoints;
  maxConcurrency?: number;
  maxPerSecond?: number;
  providerLimiter?: ProviderLimiter;
  plugins?: WorkerPlugin[];
  /** Checks tenant model endpoints; default: public addresses only. */
  urlGuard?: UrlGuard;
  /** Opens tenant model keys from session vaults; default: the development vault key. */
  secretBox?: SecretBox;
  /** The usage ledger's price table and default daily token budget; default: built-in prices, no budget. */
  metering?: MeteringOptions;
}

export async function createModelWorker(options: ModelWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: withPrefix(options.taskQueuePrefix, taskQueues.model),
    activities: createModelActivities({
      pool: options.pool,
      endpoints: options.endpoints,
      limiter: options.providerLimiter,
      urlGuard: options.urlGuard,
      secretBox: options.secretBox ?? new SecretBox(developmentVaultKey),
      metering: options.metering,
    }),
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 20,
    maxTaskQueueActivitiesPerSecond: options.maxPerSecond,
    plugins: options.plugins,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('model-worker');
  const { config } = deps;
  const worker = await createModelWorker({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
    pool: deps.pool,
    dataConverter: deps.dataConverter,
    endpoints: {
      anthropic: { apiKey: config.ANTHROPIC_API_KEY, baseUrl: config.ANTHROPIC_BASE_URL },
      openai: { apiKey: config.OPENAI_API_KEY, baseUrl: config.OPENAI_BASE_URL },
      fallbackBaseUrl: config.AGENTS_FAKE_MODEL_URL,
    },
    maxConcurrency: config.AGENTS_MODEL_MAX_CONCURRENCY,
    maxPerSecond: config.AGENTS_MODEL_MAX_PER_SECOND,
    plugins: deps.plugins,
    urlGuard: new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST),
    secretBox: new SecretBox(config.AGENTS_VAULT_KEY ?? developmentVaultKey),
    metering: { prices: config.AGENTS_MODEL_PRICES, defaultTokensPerDay: config.AGENTS_TENANT_MODEL_TOKENS_PER_DAY },
    providerLimiter: new ProviderLimiter(
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
    ),
  });
  deps.logger.info(
    {
      taskQueue: worker.options.taskQueue,
      anthropic: config.ANTHROPIC_API_KEY ? 'api key' : config.AGENTS_FAKE_MODEL_URL ? 'fake model server' : 'none',
      openai: config.OPENAI_API_KEY ? 'api key' : config.AGENTS_FAKE_MODEL_URL ? 'fake model server' : 'none',
    },
    'model worker started',
  );
  await runUntilSignalled(deps, [worker]);
}
