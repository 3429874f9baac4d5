// Provider mode: this Docker host serves a self-hosted environment of any control plane that speaks Anthropic's work
// protocol (this platform's API, or one with the same shape) — "hosted control plane, self-hosted sandboxes". The
// official SDK's runner does the protocol; its tools run in this platform's hardened Docker sandboxes, one per session
// and work item, behind the host's egress proxy, their workspaces kept as snapshots in the provider's own PostgreSQL
// (activities/sandbox/provider-sandboxes.ts, provider-toolset.ts). Entry: `npm run worker:provider` with
// AGENTS_PROVIDER_API_URL, AGENTS_PROVIDER_ENVIRONMENT_ID, AGENTS_PROVIDER_ENVIRONMENT_KEY and DATABASE_URL.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic, { NotFoundError } from '@anthropic-ai/sdk';
import Docker from 'dockerode';
import pg from 'pg';
import { EgressGateway, type EgressGatewayOptions } from '../activities/sandbox/egress/gateway.ts';
import { ProviderSandboxes } from '../activities/sandbox/provider-sandboxes.ts';
import { providerToolset } from '../activities/sandbox/provider-toolset.ts';
import { SnapshotStore } from '../activities/sandbox/snapshot-store.ts';
import { vaultSecretBox } from '../db/repositories/secret-box.ts';
import { loadConfig } from '../domain/config.ts';
import { defaultSandboxSpec, type SandboxSpec } from '../domain/sandbox.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { createLogger, isMainModule } from './bootstrap.ts';

export interface ProviderWorkerOptions {
  apiUrl: string;
  environmentId: string;
  environmentKey: string;
  docker: Docker;
  /** The provider's own PostgreSQL (migrated): workspace snapshots, the egress CA and log. */
  pool: pg.Pool;
  image: string;
  /** Hosts the sandboxes may reach through the egress proxy (`*.example.com` for subdomains); none: no network. */
  allowedHosts?: string[];
  /** The egress proxy's settings; required with allowedHosts. */
  egress?: Omit<EgressGatewayOptions, 'docker' | 'pool' | 'onError'>;
  /** Labels added to every container (tests mark their run with them). */
  extraLabels?: Record<string, string>;
  /** The runner lets go of a session's item this long after its turn ended (the SDK's default: 60 s). */
  maxIdleMs?: number;
  /** How often containers a dead provider left behind are swept (ms); 0: only at start. */
  sweepIntervalMs?: number;
  onError?: (error: unknown) => void;
}

/** The provider's sandbox: the default image and limits, and its allow-list as `limited` networking. */
export function providerSandboxSpec(image: string, allowedHosts: string[] = []): SandboxSpec {
  const spec = defaultSandboxSpec(image);
  if (allowedHosts.length === 0) return spec;
  const policy = {
    type: 'limited' as const,
    allowedHosts,
    allowPackageManagers: false,
    allowMcpServers: false,
    mcpServerHosts: [],
  };
  return { ...spec, network: 'egress', egress: { policy, vaultIds: [] } };
}

export interface ProviderWorker {
  /** Settles when the runner stops (after stop(), or on a credential the control plane refuses). */
  done: Promise<void>;
  /** One sweep of leftover containers now; returns the removed container ids. */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startProviderWorker(options: ProviderWorkerOptions): Promise<ProviderWorker> {
  // The runner never sends this key: it scopes every call to the environment key or the item's sessions token.
  const client = new Anthropic({ baseURL: options.apiUrl, apiKey: 'unused-by-the-runner' });
  const onError = options.onError ?? (() => undefined);
  const allowedHosts = options.allowedHosts ?? [];
  const egress =
    allowedHosts.length > 0
      ? await EgressGateway.start({ ...options.egress!, docker: options.docker, pool: options.pool, onError })
      : undefined;
  const sandboxes = new ProviderSandboxes(options.docker, {
    spec: providerSandboxSpec(options.image, allowedHosts),
    snapshots: new SnapshotStore(options.pool),
    egress,
    environmentId: options.environmentId,
    extraLabels: options.extraLabels,
  });
  const sweeper = startSweeper(sandboxes, options, onError);
  const controller = new AbortController();
  const done = client.beta.environments.work
    .worker({
      environmentId: options.environmentId,
      environmentKey: options.environmentKey,
      // Only the runner's skill downloads land here; the tools work in the session's container.
      workdir: mkdtempSync(join(tmpdir(), 'agents-provider-')),
      memorySyncIntervalMs: null,
      ...(options.maxIdleMs !== undefined ? { maxIdleMs: options.maxIdleMs } : {}),
      tools: (context) => {
        const sessionId = context.session?.id ?? context.sessionId ?? 'unknown';
        // Ended (archived or deleted): its workspace goes with the container. Unknown (the token died): kept.
        const sessionEnded = async () =>
          context.client
            ? context.client.beta.sessions.retrieve(sessionId).then(
                (session) => session.status === 'terminated',
                (error: unknown) => error instanceof NotFoundError,
              )
            : false;
        return providerToolset(sandboxes, sessionId, { sessionEnded, skillsDir: join(context.workdir, 'skills') });
      },
    })
    .run(controller.signal)
    .catch((error: unknown) => {
      if (!controller.signal.aborted) throw error;
    });
  return {
    done,
    sweep: sweeper.sweep,
    async stop() {
      controller.abort();
      await done;
      await sweeper.stop();
      await egress?.stop();
    },
  };
}

/** Sweeps at start and every sweepIntervalMs: a session's leftover container goes once no item of it is open. */
function startSweeper(sandboxes: ProviderSandboxes, options: ProviderWorkerOptions, onError: (error: unknown) => void) {
  const runner = new Anthropic({ baseURL: options.apiUrl, apiKey: null, authToken: options.environmentKey });
  const sweep = async (): Promise<string[]> => {
    const open = new Set<string>();
    for await (const item of runner.beta.environments.work.list(options.environmentId)) {
      if (item.state !== 'stopped') open.add(item.data.id);
    }
    return sandboxes.sweep(async (sessionId) => open.has(sessionId));
  };
  const guarded = () => sweep().catch((error: unknown) => (onError(error), []));
  let running = guarded();
  const interval = options.sweepIntervalMs ?? 0;
  const timer = interval > 0 ? setInterval(() => void (running = running.then(guarded)), interval) : undefined;
  timer?.unref();
  return {
    sweep: () => {
      const result = running.then(sweep);
      running = result.catch(() => []);
      return result;
    },
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
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
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL });
  const urlGuard = new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST);
  const worker = await startProviderWorker({
    apiUrl,
    environmentId,
    environmentKey,
    docker: new Docker(),
    pool,
    image: config.AGENTS_SANDBOX_IMAGE,
    allowedHosts: config.AGENTS_PROVIDER_ALLOWED_HOSTS,
    egress: {
      secretBox: vaultSecretBox(config),
      socketDir: config.AGENTS_EGRESS_SOCKET_DIR,
      isAllowedAddress: (address) => urlGuard.isAllowedAddress(address),
      upstreamCaCertificates: config.AGENTS_EGRESS_UPSTREAM_CA_FILE
        ? readFileSync(config.AGENTS_EGRESS_UPSTREAM_CA_FILE)
        : undefined,
    },
    extraLabels: config.AGENTS_SANDBOX_EXTRA_LABELS,
    sweepIntervalMs: config.AGENTS_SANDBOX_REAPER_INTERVAL_MS,
    onError: (error) => logger.warn({ err: String(error) }, 'provider sandbox upkeep failed'),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void worker.stop());
  logger.info({ apiUrl, environmentId }, 'provider worker started');
  await worker.done;
  await pool.end();
  logger.info('provider worker stopped');
}
