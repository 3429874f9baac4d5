// MCP workers call tenants' MCP servers (tools/list, tools/call) with the session's vault credentials, which they
// open here and nowhere else. Their own queue, so slow or dead MCP servers never hold up model calls or sandboxes.
// Entry: `npm run worker:mcp`.
import { Worker } from '@temporalio/worker';
import { createMcpActivities } from '../activities/mcp/activities.ts';
import { type SecretBox, vaultSecretBox } from '../db/repositories/secret-box.ts';
import { taskQueues } from '../domain/task-queues.ts';
import { UrlGuard } from '../net/url-guard.ts';
import {
  baseWorkerCreateOptions,
  bootstrapWorkerProcess,
  isMainModule,
  runUntilSignalled,
  workerBaseFromDeps,
  type WorkerBaseOptions,
} from './bootstrap.ts';

export interface McpWorkerOptions extends WorkerBaseOptions {
  secretBox: SecretBox;
  urlGuard: UrlGuard;
  maxConcurrency?: number;
}

export async function createMcpWorker(options: McpWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...baseWorkerCreateOptions(options, taskQueues.mcp),
    activities: createMcpActivities({
      pool: options.pool,
      secretBox: options.secretBox,
      urlGuard: options.urlGuard,
    }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 50,
  });
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('mcp-worker');
  const { config } = deps;
  const worker = await createMcpWorker({
    ...workerBaseFromDeps(deps),
    secretBox: vaultSecretBox(config),
    urlGuard: new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST),
  });
  deps.logger.info({ taskQueue: worker.options.taskQueue }, 'mcp worker started');
  await runUntilSignalled(deps, [worker]);
}
