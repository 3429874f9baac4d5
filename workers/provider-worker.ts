// Provider mode: this Docker host serves a self-hosted environment of any control plane that speaks Anthropic's work
// protocol (this platform's API, or one with the same shape) — "hosted control plane, self-hosted sandboxes". The
// official SDK's runner does the protocol; its tools run in this platform's hardened Docker sandboxes, one per session
// (activities/sandbox/provider-toolset.ts). Entry: `npm run worker:provider` with AGENTS_PROVIDER_API_URL,
// AGENTS_PROVIDER_ENVIRONMENT_ID and AGENTS_PROVIDER_ENVIRONMENT_KEY.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import { ProviderSandboxes, providerToolset } from '../activities/sandbox/provider-toolset.ts';
import { loadConfig } from '../domain/config.ts';
import { defaultSandboxSpec } from '../domain/sandbox.ts';
import { createLogger, isMainModule } from './bootstrap.ts';

export interface ProviderWorkerOptions {
  apiUrl: string;
  environmentId: string;
  environmentKey: string;
  docker: Docker;
  image: string;
  /** Labels added to every container (tests mark their run with them). */
  extraLabels?: Record<string, string>;
}

export interface ProviderWorker {
  /** Settles when the runner stops (after stop(), or on a credential the control plane refuses). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export function startProviderWorker(options: ProviderWorkerOptions): ProviderWorker {
  // The runner never sends this key: it scopes every call to the environment key or the item's sessions token.
  const client = new Anthropic({ baseURL: options.apiUrl, apiKey: 'unused-by-the-runner' });
  const sandboxes = new ProviderSandboxes(options.docker, defaultSandboxSpec(options.image), options.extraLabels);
  const controller = new AbortController();
  const done = client.beta.environments.work
    .worker({
      environmentId: options.environmentId,
      environmentKey: options.environmentKey,
      // Only the runner's skill downloads land here; the tools work in the session's container.
      workdir: mkdtempSync(join(tmpdir(), 'agents-provider-')),
      memorySyncIntervalMs: null,
      tools: (context) => providerToolset(sandboxes, context.session?.id ?? context.sessionId ?? 'unknown'),
    })
    .run(controller.signal)
    .catch((error: unknown) => {
      if (!controller.signal.aborted) throw error;
    });
  return {
    done,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

if (isMainModule(import.meta.url)) {
  // eslint-disable-next-line no-restricted-syntax -- the process entry point reads its configuration once
  const config = loadConfig(process.env);
  const logger = createLogger(config, 'provider-worker');
  const { AGENTS_PROVIDER_API_URL: apiUrl, AGENTS_PROVIDER_ENVIRONMENT_ID: environmentId } = config;
  const environmentKey = config.AGENTS_PROVIDER_ENVIRONMENT_KEY;
  if (!apiUrl || !environmentId || !environmentKey) {
    throw new Error(
      'provider mode needs AGENTS_PROVIDER_API_URL, AGENTS_PROVIDER_ENVIRONMENT_ID and AGENTS_PROVIDER_ENVIRONMENT_KEY',
    );
  }
  const worker = startProviderWorker({
    apiUrl,
    environmentId,
    environmentKey,
    docker: new Docker(),
    image: config.AGENTS_SANDBOX_IMAGE,
    extraLabels: config.AGENTS_SANDBOX_EXTRA_LABELS,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void worker.stop());
  logger.info({ apiUrl, environmentId }, 'provider worker started');
  await worker.done;
  logger.info('provider worker stopped');
}
