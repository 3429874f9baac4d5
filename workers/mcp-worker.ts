// MCP workers call tenants' MCP servers (tools/list, tools/call) with the session's vault credentials, which they
// open here and nowhere else. Their own queue, so slow or dead MCP servers never hold up model calls or sandboxes.
// Entry: `npm run worker:mcp`.
import { Worker, type NativeConnection, type WorkerPlugin } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type pg from 'pg';
import { createMcpActivities } from '../activities/mcp/activities.ts';
import { SecretBox } from '../db/repositories/secret-box.ts';
import { developmentVaultKey } from '../domain/config.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { bootstrapWorkerProcess, isMainModule, runUntilSignalled } from './bootstrap.ts';

export interface McpWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueuePrefix: string;
  pool: pg.Pool;
  dataConverter: DataConverter;
  secretBox: SecretBox;
  urlGuard: UrlGuard;
  maxConcurrency?: number;
  plugins?: WorkerPlugin[];
}

export async function createMcpWorker(options: McpWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: withPrefix(options.taskQueuePrefix, taskQueues.mcp),
    activities: createMcpActivities({
      pool: options.pool,
      secretBox: options.secretBox,
      urlGuard: options.urlGuard,
    }),
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 50,
    plugins: options.plugins,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('mcp-worker');
  const { config } = deps;
  const worker = await createMcpWorker({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
    pool: deps.pool,
    dataConverter: deps.dataConverter,
    secretBox: new SecretBox(config.AGENTS_VAULT_KEY ?? developmentVaultKey),
    urlGuard: new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST),
    plugins: deps.plugins,
  });
  deps.logger.info({ taskQueue: worker.options.taskQueue }, 'mcp worker started');
  await runUntilSignalled(deps, [worker]);
}
