// An in-process platform for integration tests: real session, model and sandbox workers on a task-queue prefix of the
// test's own, against the run's Temporal dev server and PostgreSQL, with the fake model server as the model's far end.
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { inject } from 'vitest';
import { createDataConverter } from '../../codec/data-converter.ts';
import { developmentPayloadKeys, developmentVaultKey, loadConfig, parsePayloadKeys } from '../../domain/config.ts';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import Docker from 'dockerode';
import { createAutomationWorker } from '../../workers/automation-worker.ts';
import { createExampleBackendWorker } from '../../workers/example-backend-worker.ts';
import type { ModelEndpoints } from '../../activities/model/endpoint.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { createMcpWorker } from '../../workers/mcp-worker.ts';
import { createModelWorker } from '../../workers/model-worker.ts';
import { createSandboxHost, type SandboxHost } from '../../workers/sandbox-worker.ts';
import { tenantLiveSandboxLimit } from '../../activities/sandbox/sandbox-quota.ts';
import { SecretBox } from '../../db/repositories/secret-box.ts';
import { createSessionWorker } from '../../workers/session-worker.ts';
import { startFakeModelServer, type FakeModelServer } from '../fake-model/server.ts';
import { startModelGateway, type ModelGateway } from '../../activities/model/gateway/server.ts';

export interface TestPlatform {
  prefix: string;
  /** Extra configuration this platform's processes run with (PlatformOptions.env). */
  env: Record<string, string>;
  client: Client;
  pool: pg.Pool;
  dataConverter: DataConverter;
  fakeModel: FakeModelServer;
  /** The model gateway (PlatformOptions.claudeHarness). */
  gateway?: ModelGateway;
  workers: Map<string, Worker>;
  /** The example backend-tool worker's queue (activities lookupOrder, refundOrder). */
  backendQueue: string;
  stop(): Promise<void>;
}

let counter = 0;
const systemCaBundle = '/etc/ssl/certs/ca-certificates.crt';

export function uniquePrefix(label: string): string {
  return `t${inject('testRunId')}-${label}-${process.pid}-${++counter}`;
}

export function testDataConverter(pool: pg.Pool): DataConverter {
  const { keys, currentKeyId } = parsePayloadKeys(developmentPayloadKeys);
  return createDataConverter({ pool, keys, currentKeyId, claimCheckThresholdBytes: 32 * 1024 });
}

export interface PlatformOptions {
  label: string;
  /** Which workers to run in this process (default: all). */
  /** Which workers to run (default: session, model, sandbox, backend; `mcp` only when asked for). */
  workers?: Array<'session' | 'model' | 'sandbox' | 'backend' | 'automation' | 'mcp'>;
  maxCachedWorkflows?: number;
  /** The model worker's endpoints (default: no keys, the fake model server for every provider). */
  modelEndpoints?: (fakeModelUrl: string) => ModelEndpoints;
  /** Non-public ranges tenant URLs may reach (AGENTS_PRIVATE_NETWORK_ALLOWLIST); default none. */
  privateNetworkAllowlist?: string[];
  /** Runs the sandbox host's egress proxy (sockets in a folder of the run's own; privateNetworkAllowlist applies). */
  egress?: { upstreamCaCertificates?: Buffer };
  /** Configuration of the automation worker (and of an API on this platform), e.g. AGENTS_DEPLOYMENT_SECONDS_CRON. */
  env?: Record<string, string>;
  /** A Temporal server of the test's own (default: the run's dev server). */
  temporalAddress?: string;
  /**
   * Runs the model gateway (on a loopback address of its own, before the fake model, with this provider key) and
   * the Claude Agent SDK harness on the sandbox host; AGENTS_MODEL_GATEWAY_URL joins `env`.
   */
  claudeHarness?: { providerKey: string };
}

let runtimeInstalled = false;

export async function startTestPlatform(options: PlatformOptions): Promise<TestPlatform> {
  if (!runtimeInstalled) {
    // Worker state changes and the like would drown the test output; errors still show.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const prefix = uniquePrefix(options.label);
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 10 });
  const dataConverter = testDataConverter(pool);
  const fakeModel = await startFakeModelServer();
  const gateway = options.claudeHarness
    ? await startModelGateway({
        pool,
        endpoints: {
          anthropic: { apiKey: options.claudeHarness.providerKey, baseUrl: fakeModel.url },
          openai: { apiKey: options.claudeHarness.providerKey, baseUrl: `${fakeModel.url}/v1` },
        },
        guard: new UrlGuard(['127.0.0.0/8']),
        // Not 127.0.0.1: sandboxes keep that for themselves (NO_PROXY); the gateway is reached through the proxy.
        host: '127.0.0.7',
      })
    : undefined;
  const env = { ...options.env, ...(gateway ? { AGENTS_MODEL_GATEWAY_URL: gateway.url } : {}) };
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, dataConverter });
  const workers = new Map<string, Worker>();
  const wanted = options.workers ?? ['session', 'model', 'sandbox', 'backend'];
  const backendQueue = `${prefix}-backend`;
  if (wanted.includes('session')) {
    workers.set(
      'session',
      await createSessionWorker({
        connection: nativeConnection,
        taskQueuePrefix: prefix,
        pool,
        dataConverter,
        workflowBundle: { codePath: inject('workflowBundlePath') },
        maxCachedWorkflows: options.maxCachedWorkflows,
      }),
    );
  }
  if (wanted.includes('model')) {
    workers.set(
      'model',
      await createModelWorker({
        connection: nativeConnection,
        taskQueuePrefix: prefix,
        pool,
        dataConverter,
        endpoints: options.modelEndpoints?.(fakeModel.url) ?? {
          anthropic: {},
          openai: {},
          fallbackBaseUrl: fakeModel.url,
        },
        urlGuard: new UrlGuard(options.privateNetworkAllowlist ?? []),
      }),
    );
  }
  let sandboxHost: SandboxHost | undefined;
  const egressSocketDir = options.egress ? await mkdtemp('/tmp/egress-') : undefined;
  if (wanted.includes('sandbox')) {
    const guard = new UrlGuard(options.privateNetworkAllowlist ?? []);
    sandboxHost = await createSandboxHost({
      connection: nativeConnection,
      taskQueuePrefix: prefix,
      hostId: 'host-a',
      pool,
      docker: new Docker(),
      dataConverter,
      extraLabels: testContainerLabels(),
      // The platform default (unlimited) unless a test gives its tenant a `max_live_sandboxes`.
      liveSandboxLimit: tenantLiveSandboxLimit(pool, loadConfig(options.env ?? {})),
      // This machine reaches PyPI and npm through a TLS-intercepting proxy; image builds must trust its CA.
      buildCaCertificates: existsSync(systemCaBundle) ? readFileSync(systemCaBundle) : undefined,
      repositories: {
        secretBox: new SecretBox(developmentVaultKey),
        urlGuard: guard,
        allowedHosts: platformConfig(prefix, options.env).AGENTS_REPOSITORY_HOSTS,
      },
      ...(gateway ? { claudeHarness: { gatewayUrl: gateway.url } } : {}),
      egress: egressSocketDir
        ? {
            secretBox: new SecretBox(developmentVaultKey),
            socketDir: egressSocketDir,
            isAllowedAddress: (address) => guard.isAllowedAddress(address),
            upstreamCaCertificates: options.egress?.upstreamCaCertificates,
          }
        : undefined,
    });
    const [shared, host] = sandboxHost.workers;
    workers.set('sandbox', shared!);
    workers.set('sandbox-host', host!);
  }
  if (wanted.includes('mcp')) {
    workers.set(
      'mcp',
      await createMcpWorker({
        connection: nativeConnection,
        taskQueuePrefix: prefix,
        pool,
        dataConverter,
        secretBox: new SecretBox(developmentVaultKey),
        urlGuard: new UrlGuard(options.privateNetworkAllowlist ?? []),
      }),
    );
  }
  if (wanted.includes('backend')) {
    workers.set(
      'backend',
      await createExampleBackendWorker({ connection: nativeConnection, taskQueue: backendQueue, dataConverter }),
    );
  }
  if (wanted.includes('automation')) {
    const automation = await createAutomationWorker({
      connection: nativeConnection,
      client,
      config: platformConfig(prefix, options.env),
      pool,
      dataConverter,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      sessionSettings: { modelRetryInitialMs: 100, modelRetryMaxMs: 1_000, modelHeartbeatTimeoutMs: 5_000 },
    });
    workers.set('automation', automation.worker);
    void automation.sweep();
  }
  const running = [...workers.values()].map((worker) => worker.run());
  return {
    prefix,
    env,
    gateway,
    client,
    pool,
    dataConverter,
    fakeModel,
    workers,
    backendQueue,
    async stop() {
      for (const worker of workers.values()) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
      await Promise.allSettled(running);
      await sandboxHost?.stop();
      if (egressSocketDir) await rm(egressSocketDir, { recursive: true, force: true });
      await connection.close();
      await nativeConnection.close();
      await gateway?.close();
      await fakeModel.close();
      await pool.end();
    },
  };
}

/** Labels that tie a container to this test run, so the run's teardown removes whatever a test leaves behind. */
export function testContainerLabels(): Record<string, string> {
  return { 'io.temporal-agents.test-run': inject('testRunId') };
}

/** The configuration a process of this platform loads: the run's Temporal and PostgreSQL, the prefix, `env`. */
export function platformConfig(prefix: string, env: Record<string, string> = {}) {
  return loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    AGENTS_TASK_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    ...env,
  });
}
