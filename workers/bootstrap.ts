// What every worker process shares: configuration, logger, database pool, the payload data converter and the
// connection to Temporal; plus a clean shutdown on SIGINT/SIGTERM.
import {
  NativeConnection,
  Runtime,
  makeTelemetryFilterString,
  type Worker,
  type WorkerPlugin,
} from '@temporalio/worker';
import { tracingFromConfig, type Tracing } from './tracing.ts';
import type { DataConverter } from '@temporalio/common';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { createPlatformDataConverter } from '../codec/data-converter.ts';
import { createPool } from '../db/pool.ts';
import { loadConfig, type PlatformConfig } from '../domain/config.ts';
import { withPrefix } from '../domain/task-queues.ts';
import { workerMetricsOptions } from './metrics.ts';

export interface WorkerDeps {
  config: PlatformConfig;
  logger: Logger;
  pool: pg.Pool;
  dataConverter: DataConverter;
  connection: NativeConnection;
  /** OpenTelemetry tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing: Tracing | undefined;
  /** The worker plugins every worker of this process gets. */
  plugins: WorkerPlugin[];
}

/** What every worker factory takes: the Temporal connection and namespace, its queue prefix and the shared resources. */
export interface WorkerBaseOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueuePrefix: string;
  pool: pg.Pool;
  dataConverter: DataConverter;
  /** Worker plugins, e.g. OpenTelemetry tracing (workers/tracing.ts). */
  plugins?: WorkerPlugin[];
}

/**
 * The longest the SDK's core waits between two heartbeats it sends for an activity (`maxHeartbeatThrottleInterval`).
 * Its default is 0.8 × the activity's heartbeat timeout: every 24 s for a model call's 30 s, leaving 6 s for the
 * heartbeat to reach the server, which a loaded machine did not always give (bench P7: model calls retried on a
 * heartbeat timeout at 50–200 sessions). It also bounds how late an interrupt reaches a running model call, since
 * cancellation comes back in a heartbeat's answer. Activities heartbeat from their first second on
 * (activities/heartbeats.ts), so a call shorter than that sends none.
 */
export const heartbeatThrottle = '3s';

/** The `Worker.create` options every worker shares, for its queue (unprefixed name from domain/task-queues.ts). */
export function baseWorkerCreateOptions(options: WorkerBaseOptions, taskQueue: string) {
  return {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: withPrefix(options.taskQueuePrefix, taskQueue),
    dataConverter: options.dataConverter,
    plugins: options.plugins,
    maxHeartbeatThrottleInterval: heartbeatThrottle,
  };
}

/** The base options of a worker in a process started by `bootstrapWorkerProcess`. */
export function workerBaseFromDeps(deps: WorkerDeps): WorkerBaseOptions {
  return {
    connection: deps.connection,
    namespace: deps.config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: deps.config.AGENTS_TASK_QUEUE_PREFIX,
    pool: deps.pool,
    dataConverter: deps.dataConverter,
    plugins: deps.plugins,
  };
}

export function createLogger(config: PlatformConfig, name: string): Logger {
  return pino({
    name,
    level: config.LOG_LEVEL,
    redact: ['*.apiKey', '*.api_key', '*.token', '*.secret', '*.authorization'],
  });
}

/**
 * Connects to Temporal, retrying with backoff while the server is not there yet: the SDK gives up on a first connection
 * that fails (once connected, its core retries polls through an outage by itself).
 */
export async function connectWithBackoff(address: string, logger: Logger): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect({ address });
    } catch (error) {
      const delayMs = Math.min(500 * 2 ** (attempt - 1), 15_000);
      logger.warn(
        { err: error instanceof Error ? error.message : String(error), attempt, delayMs },
        'Temporal unreachable; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export async function bootstrapWorkerProcess(name: string): Promise<WorkerDeps> {
  // eslint-disable-next-line no-restricted-syntax -- the process entry point reads its environment once
  const config = loadConfig(process.env);
  const logger = createLogger(config, name);
  Runtime.install({
    logger: {
      log: (level, message, meta) =>
        logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')](meta ?? {}, message),
      trace: (message, meta) => logger.trace(meta ?? {}, message),
      debug: (message, meta) => logger.debug(meta ?? {}, message),
      info: (message, meta) => logger.info(meta ?? {}, message),
      warn: (message, meta) => logger.warn(meta ?? {}, message),
      error: (message, meta) => logger.error(meta ?? {}, message),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      metrics: workerMetricsOptions(config, name),
    },
  });
  if (config.AGENTS_METRICS_PORT !== 0) {
    logger.info(
      { port: config.AGENTS_METRICS_PORT, host: config.AGENTS_METRICS_HOST },
      'worker metrics endpoint at /metrics',
    );
  }
  if (!config.AGENTS_PAYLOAD_KEYS) logger.warn('AGENTS_PAYLOAD_KEYS is not set: using the development payload key');
  const pool = createPool({ url: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE, log: logger });
  const connection = await connectWithBackoff(config.TEMPORAL_ADDRESS, logger);
  const tracing = tracingFromConfig(config, name);
  if (tracing) logger.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting OpenTelemetry spans');
  return {
    config,
    logger,
    pool,
    dataConverter: createPlatformDataConverter(config, pool),
    connection,
    tracing,
    plugins: tracing ? [tracing.plugin] : [],
  };
}

/**
 * Runs workers until SIGINT/SIGTERM, then drains them (and whatever `alsoStop` runs beside them) and closes shared
 * resources.
 */
export async function runUntilSignalled(
  deps: WorkerDeps,
  workers: Worker[],
  alsoStop?: () => Promise<unknown> | undefined,
): Promise<void> {
  let stopping: Promise<unknown> | undefined;
  const shutdown = () => {
    deps.logger.info('shutting down');
    stopping = alsoStop?.();
    for (const worker of workers) worker.shutdown();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await Promise.all(workers.map((worker) => worker.run()));
  await stopping;
  await deps.tracing?.shutdown();
  await deps.connection.close();
  await deps.pool.end();
}

export const isMainModule = (metaUrl: string): boolean => metaUrl === `file://${process.argv[1]}`;
