// Sandbox workers: one per Docker host. Each polls the shared sandbox queue (creation: any host may take it) and its
// own host queue (every later operation on the containers it holds). Around the workers, the host keeps warm pools of
// paused containers (a claim is a rename + unpause) and a reaper that removes containers whose session is closed or
// gone. Entry: `npm run worker:sandbox` (host id from AGENTS_SANDBOX_HOST_ID, default the hostname).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerPlugin } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type Docker from 'dockerode';
import DockerClient from 'dockerode';
import type pg from 'pg';
import { createSandboxActivities, type RepositoryDeps } from '../activities/sandbox/activities.ts';
import { DockerSandbox } from '../activities/sandbox/docker-sandbox.ts';
import { createClaudeHarnessActivities } from '../activities/sandbox/claude-harness/activities.ts';
import { claudeRuntimeMount, hostClaudeRuntimeDir } from '../activities/sandbox/claude-harness/runtime.ts';
import { createCodexHarnessActivities } from '../activities/sandbox/codex-harness/activities.ts';
import { codexRuntimeMount, hostCodexRuntimeDir } from '../activities/sandbox/codex-harness/runtime.ts';
import { EgressGateway, type EgressGatewayOptions } from '../activities/sandbox/egress/gateway.ts';
import { tenantLiveSandboxLimit, type LiveSandboxLimit } from '../activities/sandbox/sandbox-quota.ts';
import { vaultSecretBox } from '../db/repositories/secret-box.ts';
import { UrlGuard } from '../net/url-guard.ts';
import { RedactedMemorySweeper } from '../activities/sandbox/memory-redaction.ts';
import { SandboxReaper, temporalSessionGoneCheck } from '../activities/sandbox/reaper.ts';
import { removeStalePoolContainers, WarmPool } from '../activities/sandbox/warm-pool.ts';
import { EnvironmentPools } from '../activities/sandbox/environment-pools.ts';
import { modelGatewayUrl } from '../domain/config.ts';
import { defaultSandboxSpec, hostLabel, type SandboxSpec } from '../domain/sandbox.ts';
import { regionQueue, sandboxHostQueue, taskQueues, withPrefix } from '../domain/task-queues.ts';
import { bootstrapWorkerProcess, heartbeatThrottle, isMainModule, runUntilSignalled } from './bootstrap.ts';
import { startRegionHeartbeat } from './region-fleet.ts';

export interface SandboxWorkerOptions {
  connection: NativeConnection;
  /** Worker plugins, e.g. OpenTelemetry tracing (workers/tracing.ts). */
  plugins?: WorkerPlugin[];
  namespace?: string;
  taskQueuePrefix: string;
  hostId: string;
  /** The region this host belongs to: it takes creations from that region's queue only (README "Regions"). */
  region?: string;
  pool: pg.Pool;
  docker: Docker;
  dataConverter: DataConverter;
  extraLabels?: Record<string, string>;
  maxConcurrency?: number;
  /** PEM certificates trusted while building environment images. */
  buildCaCertificates?: Buffer;
  /** How long one sandbox activity attempt waits for an unreachable Docker daemon (activities/sandbox/daemon-outage.ts). */
  dockerOutageWaitMs?: number;
  /** The tenants' `max_live_sandboxes` (activities/sandbox/sandbox-quota.ts); absent, sandboxes are not limited. */
  liveSandboxLimit?: LiveSandboxLimit;
  /** The host's egress proxy (activities/sandbox/egress/): without it, sandboxes with an allow-list cannot be made. */
  egress?: Omit<EgressGatewayOptions, 'docker' | 'pool' | 'onError'>;
  /** Host folder of the exec agents' sockets (activities/sandbox/agent-host.ts); null: docker exec only. */
  agentRoot?: string | null;
  /** Cloning github_repository resources on this host (activities/sandbox/repository-clone.ts). */
  repositories?: RepositoryDeps;
  /**
   * Runs the in-sandbox harnesses' sessions here — Claude Agent SDK (activities/sandbox/claude-harness/) and Codex
   * (activities/sandbox/codex-harness/): the gateway's address.
   */
  claudeHarness?: { gatewayUrl: string };
}

export interface SandboxHostOptions extends SandboxWorkerOptions {
  /** Warm pools to keep on this host, one per spec (sessions whose spec matches claim from it). */
  warmPools?: Array<{ spec: SandboxSpec; min: number; max: number }>;
  /** Pools of one container made on demand for other specs (environments with packages), at most this many. */
  environmentPools?: number;
  /** Sweeps this host's containers every intervalMs, asking the client whether each session's workflow still runs. */
  reaper?: { client: Client; intervalMs: number };
  /** Reports background failures (pool refills, reaper sweeps) and reaped containers. */
  log?: { info(details: object, message: string): void; warn(details: object, message: string): void };
}

/** One Docker host's sandbox service: the two workers plus the warm pools and the reaper around them. */
export interface SandboxHost {
  workers: Worker[];
  warmPools: WarmPool[];
  environmentPools: EnvironmentPools;
  reaper: SandboxReaper | undefined;
  /** Removes pool containers an earlier (killed) process left behind, then fills the pools and starts the reaper. */
  start(): Promise<void>;
  /** Stops the reaper and removes the pools' ready containers; call after the workers have stopped. */
  stop(): Promise<void>;
  /** Stops the redaction listener and gives its PostgreSQL connection back (at the shutdown signal). */
  stopListening(): Promise<void>;
  /** start(), run the workers until they are shut down, stop(). */
  run(): Promise<void>;
}

export async function createSandboxHost(options: SandboxHostOptions): Promise<SandboxHost> {
  const hostQueue = withPrefix(options.taskQueuePrefix, sandboxHostQueue(options.hostId));
  const extraLabels = { ...options.extraLabels, [hostLabel]: options.hostId };
  const reportError = (what: string) => (error: unknown) =>
    options.log?.warn({ err: error instanceof Error ? error.message : String(error) }, what);
  const egress = options.egress ? await startEgress(options, reportError) : undefined;
  // Pools and reaper see only this host's containers (the host label is among the sandbox's extra labels).
  const claude = options.claudeHarness
    ? createClaudeHarnessActivities({ docker: options.docker, pool: options.pool, egress, ...options.claudeHarness })
    : undefined;
  const codex = options.claudeHarness
    ? createCodexHarnessActivities({ docker: options.docker, pool: options.pool, egress, ...options.claudeHarness })
    : undefined;
  const claudeRuntime = claude ? hostClaudeRuntimeDir() : undefined;
  const codexRuntime = codex ? hostCodexRuntimeDir() : undefined;
  const mounts = [
    ...(claudeRuntime ? [claudeRuntimeMount(claudeRuntime)] : []),
    ...(codexRuntime ? [codexRuntimeMount(codexRuntime)] : []),
  ];
  const runtimeMounts = mounts.length > 0 ? mounts : undefined;
  const sandbox = new DockerSandbox(options.docker, {
    extraLabels,
    egress,
    agentRoot: options.agentRoot,
    runtimeMounts,
  });
  const warmPools = (options.warmPools ?? [])
    .filter((pool) => pool.min > 0)
    .map(
      (pool) =>
        new WarmPool(sandbox, {
          spec: pool.spec,
          min: pool.min,
          max: Math.max(pool.min, pool.max),
          onError: reportError('warm pool refill failed'),
        }),
    );
  const environmentPools = new EnvironmentPools(sandbox, {
    max: options.environmentPools ?? 0,
    onError: reportError('environment pool refill failed'),
  });
  const reaper =
    options.reaper && options.reaper.intervalMs > 0
      ? new SandboxReaper({
          sandbox,
          isSessionGone: temporalSessionGoneCheck(options.reaper.client),
          intervalMs: options.reaper.intervalMs,
          onReaped: (containerIds) => options.log?.info({ containerIds }, 'reaped sandboxes of closed sessions'),
          onError: reportError('sandbox reaper sweep failed'),
        })
      : undefined;
  // Redacted memory leaves this host's sandboxes as soon as the redaction commits (activities/sandbox/memory-redaction.ts).
  const redactions = new RedactedMemorySweeper({
    pool: options.pool,
    docker: options.docker,
    sandbox,
    onError: reportError('redacted memory sweep failed'),
    onScrubbed: (details) => options.log?.info(details, 'redacted memory removed from a sandbox'),
  });
  const activities = createSandboxActivities({
    docker: options.docker,
    pool: options.pool,
    hostQueue,
    extraLabels,
    warmPools,
    environmentPools,
    buildCaCertificates: options.buildCaCertificates,
    daemonOutageWaitMs: options.dockerOutageWaitMs,
    egress,
    agentRoot: options.agentRoot,
    repositories: options.repositories,
    liveSandboxLimit: options.liveSandboxLimit,
    runtimeMounts,
  });
  const common = {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    activities: claude && codex ? withSandboxHarnesses(activities, claude, codex) : activities,
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: options.maxConcurrency ?? 20,
    maxHeartbeatThrottleInterval: heartbeatThrottle,
    plugins: options.plugins,
  };
  const workers = await Promise.all([
    Worker.create({
      ...common,
      taskQueue: withPrefix(options.taskQueuePrefix, regionQueue(taskQueues.sandbox, options.region)),
    }),
    Worker.create({ ...common, taskQueue: hostQueue }),
  ]);

  const start = async () => {
    if (warmPools.length > 0 || (options.environmentPools ?? 0) > 0) await removeStalePoolContainers(sandbox);
    // Filling runs in the background: until a pool is ready, sessions get cold containers.
    for (const pool of warmPools) pool.refill().catch(reportError('warm pool refill failed'));
    reaper?.start();
    await redactions.start();
  };
  const stop = async () => {
    await redactions.stop();
    await reaper?.stop();
    await Promise.all([...warmPools.map((pool) => pool.stop()), environmentPools.stop()]);
    await egress?.stop();
  };
  return {
    workers,
    warmPools,
    environmentPools,
    reaper,
    start,
    stop,
    // Gives back the LISTEN connection at the shutdown signal: the process ends its pg pool before it stops the host,
    // and a pool's end waits for every checked-out client (a held one kept the process from ever stopping its pools).
    stopListening: () => redactions.stop(),
    async run() {
      await start();
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await stop();
      }
    },
  };
}

/**
 * The host's egress proxy. A host that cannot run it (no root for its socket folder, no CA table yet) still serves
 * every other sandbox: it says so, and a session whose environment needs the proxy gets a clear error at creation.
 */
async function startEgress(
  options: SandboxHostOptions,
  reportError: (what: string) => (error: unknown) => void,
): Promise<EgressGateway | undefined> {
  try {
    return await EgressGateway.start({
      ...options.egress!,
      docker: options.docker,
      pool: options.pool,
      onError: reportError('egress log write failed'),
    });
  } catch (error) {
    reportError('egress proxy not started: sandboxes with allowed hosts or credentials cannot be made here')(error);
    return undefined;
  }
}

/** The sandbox activities plus the harnesses'; removing a session's sandbox also ends its harness and tokens. */
function withSandboxHarnesses(
  activities: ReturnType<typeof createSandboxActivities>,
  claude: ReturnType<typeof createClaudeHarnessActivities>,
  codex: ReturnType<typeof createCodexHarnessActivities>,
) {
  return {
    ...activities,
    ...claude.activities,
    ...codex.activities,
    async destroySandbox(input: Parameters<typeof activities.destroySandbox>[0]) {
      await claude.releaseClaudeSession(input.owner.sessionId);
      await codex.releaseCodexSession(input.owner.sessionId);
      return activities.destroySandbox(input);
    },
  };
}

/** Two workers sharing one set of activities: the shared creation queue and this host's queue (no pools, no reaper). */
export async function createSandboxWorkers(options: SandboxWorkerOptions): Promise<Worker[]> {
  return (await createSandboxHost(options)).workers;
}

if (isMainModule(import.meta.url)) {
  const deps = await bootstrapWorkerProcess('sandbox-worker');
  const { config } = deps;
  const hostId = config.AGENTS_SANDBOX_HOST_ID ?? hostname();
  // Lazy: the reaper's client connects on first use and reconnects after an outage (its sweeps fail meanwhile).
  const reaperConnection =
    config.AGENTS_SANDBOX_REAPER_INTERVAL_MS > 0 ? Connection.lazy({ address: config.TEMPORAL_ADDRESS }) : undefined;
  const urlGuard = new UrlGuard(config.AGENTS_PRIVATE_NETWORK_ALLOWLIST);
  const secretBox = vaultSecretBox(config);
  const host = await createSandboxHost({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueuePrefix: config.AGENTS_TASK_QUEUE_PREFIX,
    hostId,
    region: config.AGENTS_REGION,
    pool: deps.pool,
    docker: new DockerClient(),
    dataConverter: deps.dataConverter,
    plugins: deps.plugins,
    extraLabels: config.AGENTS_SANDBOX_EXTRA_LABELS,
    maxConcurrency: config.AGENTS_SANDBOX_MAX_CONCURRENCY,
    dockerOutageWaitMs: config.AGENTS_SANDBOX_DOCKER_OUTAGE_WAIT_MS,
    agentRoot: config.AGENTS_SANDBOX_AGENT_DIR === 'off' ? null : config.AGENTS_SANDBOX_AGENT_DIR,
    repositories: { secretBox, urlGuard, allowedHosts: config.AGENTS_REPOSITORY_HOSTS },
    liveSandboxLimit: tenantLiveSandboxLimit(deps.pool, config),
    ...(modelGatewayUrl(config) ? { claudeHarness: { gatewayUrl: modelGatewayUrl(config)! } } : {}),
    egress: {
      secretBox,
      socketDir: config.AGENTS_EGRESS_SOCKET_DIR,
      isAllowedAddress: (address) => urlGuard.isAllowedAddress(address),
      upstreamCaCertificates: config.AGENTS_EGRESS_UPSTREAM_CA_FILE
        ? readFileSync(config.AGENTS_EGRESS_UPSTREAM_CA_FILE)
        : undefined,
    },
    buildCaCertificates: config.AGENTS_SANDBOX_BUILD_CA_FILE
      ? readFileSync(config.AGENTS_SANDBOX_BUILD_CA_FILE)
      : undefined,
    warmPools: [
      {
        spec: defaultSandboxSpec(config.AGENTS_SANDBOX_IMAGE),
        min: config.AGENTS_SANDBOX_WARM_POOL_MIN,
        max: config.AGENTS_SANDBOX_WARM_POOL_MAX,
      },
    ],
    environmentPools: config.AGENTS_SANDBOX_ENVIRONMENT_POOLS,
    reaper: reaperConnection && {
      client: new Client({
        connection: reaperConnection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter: deps.dataConverter,
      }),
      intervalMs: config.AGENTS_SANDBOX_REAPER_INTERVAL_MS,
    },
    log: deps.logger,
  });
  await host.start();
  const heartbeat = config.AGENTS_REGION
    ? startRegionHeartbeat({
        pool: deps.pool,
        region: config.AGENTS_REGION,
        kind: 'sandbox',
        intervalMs: config.AGENTS_REGION_HEARTBEAT_MS,
        log: deps.logger,
      })
    : undefined;
  await heartbeat?.beat();
  deps.logger.info(
    {
      queues: host.workers.map((worker) => worker.options.taskQueue),
      warmPool: config.AGENTS_SANDBOX_WARM_POOL_MIN,
      reaperIntervalMs: config.AGENTS_SANDBOX_REAPER_INTERVAL_MS,
    },
    'sandbox worker started',
  );
  await runUntilSignalled(deps, host.workers, async () => {
    heartbeat?.stop();
    await host.stopListening();
  });
  await host.stop();
  await reaperConnection?.close();
}
