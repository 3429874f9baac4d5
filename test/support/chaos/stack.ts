// The chaos soak's platform: every process it may kill is its own — PostgreSQL (a private cluster), the Temporal dev
// server (file-backed, so a restart keeps history), a private Docker engine, the API, and the session, model and
// sandbox workers as processes — so the suite's shared services never go down. The session worker reaches Temporal
// through a socat relay whose port a partition blackholes with iptables (packets dropped both ways on loopback).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { inject } from 'vitest';
import { migrateDatabase } from '../../../db/migrate.ts';
import { createPool } from '../../../db/pool.ts';
import { createTenantWithKey } from '../../../db/repositories/tenants.ts';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../../../scripts/services/process.ts';
import { startLocalPostgres, type LocalPostgres } from '../../../scripts/services/postgres.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../../scripts/services/temporal.ts';
import { projectRoot, readToolsEnv } from '../../../scripts/services/tools-env.ts';
import { startFakeModelServer, type FakeModelServer } from '../../fake-model/server.ts';
import { testContainerLabels } from '../platform.ts';
import { PrivateDockerd } from '../private-dockerd.ts';
import { startWorkerProcess } from '../worker-processes.ts';

export const chaosKinds = [
  'session-worker',
  'model-worker',
  'sandbox-worker',
  'api',
  'temporal',
  'postgres',
  'docker',
] as const;
export type ChaosKind = (typeof chaosKinds)[number];
type WorkerKind = 'session-worker' | 'model-worker' | 'sandbox-worker';

/** Short timings so a killed worker's activity is retried in seconds, not the production minute. */
const sessionSettings = {
  modelHeartbeatTimeoutMs: 5_000,
  sandboxHeartbeatTimeoutMs: 5_000,
  sandboxHostTimeoutMs: 20_000,
  modelRetryInitialMs: 500,
  modelRetryMaxMs: 5_000,
  modelMaxAttempts: 20,
  toolTimeoutMs: 30_000,
  // Sessions continue as new now and then, so carried state (the sandbox lease, its last snapshot) is under fault too.
  continueAsNewEveryTurns: Number(process.env.CHAOS_CONTINUE_AS_NEW_TURNS ?? '8'),
};

export class ChaosStack {
  readonly processes = new Map<Exclude<ChaosKind, 'postgres' | 'temporal' | 'docker'> | 'relay', ManagedProcess>();
  postgres!: LocalPostgres;
  temporal!: TemporalDevServer;
  dockerd!: PrivateDockerd;
  fakeModel!: FakeModelServer;
  pool!: pg.Pool;
  apiUrl = '';
  apiKey = '';
  private ports = { pg: 0, temporal: 0, relay: 0, api: 0 };
  private partitioned = false;

  readonly prefix: string;
  readonly runDir: string;

  private constructor(prefix: string, runDir: string) {
    this.prefix = prefix;
    this.runDir = runDir;
  }

  static async start(prefix: string, runDir: string): Promise<ChaosStack> {
    const stack = new ChaosStack(prefix, runDir);
    chmodSync(runDir, 0o755); // the postgres system user must reach its data folder inside
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    for (const name of ['pg', 'temporal', 'relay', 'api'] as const) stack.ports[name] = await freePort();
    stack.postgres = await stack.startPostgres();
    await migrateDatabase(stack.postgres.url);
    stack.pool = createPool({ url: stack.postgres.url, max: 4, connectTimeoutMs: 2_000 });
    stack.temporal = await stack.startTemporal();
    stack.processes.set('relay', stack.startRelay());
    stack.dockerd = await PrivateDockerd.start('chaos');
    await stack.dockerd.loadImage(inject('sandboxImage'));
    stack.fakeModel = await startFakeModelServer();
    for (const kind of ['session-worker', 'model-worker', 'sandbox-worker'] as const) await stack.startWorker(kind);
    stack.apiUrl = `http://127.0.0.1:${stack.ports.api}`;
    await stack.startApi();
    stack.apiKey = (await createTenantWithKey(stack.pool, `tenant ${prefix}`)).apiKey;
    return stack;
  }

  /** SIGKILLs one component (a process group: the server and its children). */
  async kill(kind: ChaosKind): Promise<void> {
    if (kind === 'postgres') return this.postgres.process.stop('SIGKILL');
    if (kind === 'temporal') return this.temporal.process.stop('SIGKILL');
    if (kind === 'docker') return this.dockerd.stop('SIGKILL');
    await this.processes.get(kind)?.stop('SIGKILL');
  }

  /**
   * Starts the component again on the same ports, data and host id; resolves when it answers. A start that fails
   * (the killed server's port or lock file not yet released) is tried again, as a supervisor would.
   */
  async restart(kind: ChaosKind): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce(kind);
        return attempt;
      } catch (error) {
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async startOnce(kind: ChaosKind): Promise<void> {
    if (kind === 'postgres') this.postgres = await this.startPostgres();
    else if (kind === 'temporal') this.temporal = await this.startTemporal();
    else if (kind === 'docker') await this.dockerd.start();
    else if (kind === 'api') await this.startApi();
    else await this.startWorker(kind);
  }

  /** Drops every packet between the session worker and Temporal for `ms` (both directions, on loopback). */
  async partition(ms: number): Promise<void> {
    this.setPartition(true);
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      this.setPartition(false);
    }
  }

  /** Every process this stack started that is supposed to be up and is not. */
  deadProcesses(): string[] {
    const dead: string[] = [...this.processes.entries()]
      .filter(([, child]) => child.child.exitCode !== null || child.child.signalCode !== null)
      .map(([name]) => name);
    for (const [name, child] of [
      ['postgres', this.postgres.process],
      ['temporal', this.temporal.process],
    ] as const) {
      if (child.child.exitCode !== null || child.child.signalCode !== null) dead.push(name);
    }
    if (!this.dockerd.running) dead.push('docker');
    return dead;
  }

  async stop(): Promise<void> {
    if (this.partitioned) this.setPartition(false);
    await Promise.all([...this.processes.values()].map((child) => child.stop('SIGKILL')));
    await this.fakeModel?.close();
    await this.pool?.end().catch(() => undefined);
    await this.temporal?.process.stop('SIGKILL');
    await this.postgres?.process.stop('SIGKILL');
    await this.dockerd?.cleanup();
  }

  private setPartition(on: boolean): void {
    const port = String(this.ports.relay);
    for (const match of ['--dport', '--sport']) {
      execFileSync('iptables', [on ? '-I' : '-D', 'INPUT', '-i', 'lo', '-p', 'tcp', match, port, '-j', 'DROP']);
    }
    this.partitioned = on;
  }

  private startPostgres(): Promise<LocalPostgres> {
    return startLocalPostgres({
      binDir: readToolsEnv().pgBinDir ?? '',
      dataDir: join(this.runDir, 'pg'),
      port: this.ports.pg,
      logFile: join(this.runDir, 'logs', 'postgres.log'),
    });
  }

  private startTemporal(): Promise<TemporalDevServer> {
    return startTemporalDevServer({
      bin: readToolsEnv().temporalBin,
      port: this.ports.temporal,
      dbFile: join(this.runDir, 'temporal.db'),
      logFile: join(this.runDir, 'logs', 'temporal.log'),
    });
  }

  private startRelay(): ManagedProcess {
    return startProcess(
      'relay',
      'socat',
      [
        `TCP-LISTEN:${this.ports.relay},bind=127.0.0.1,fork,reuseaddr`,
        `TCP:127.0.0.1:${this.ports.temporal},connect-timeout=2`,
      ],
      { logFile: join(this.runDir, 'logs', 'relay.log') },
    );
  }

  private async startWorker(kind: WorkerKind): Promise<void> {
    const family = kind.replace('-worker', '') as 'session' | 'model' | 'sandbox';
    const labels = Object.entries(testContainerLabels()).map(([key, value]) => `${key}=${value}`);
    const extraEnv: Record<string, string> = {
      DATABASE_URL: this.postgres.url,
      TEMPORAL_ADDRESS:
        kind === 'session-worker' ? `127.0.0.1:${this.ports.relay}` : `127.0.0.1:${this.ports.temporal}`,
    };
    if (kind === 'sandbox-worker') {
      Object.assign(extraEnv, {
        DOCKER_HOST: this.dockerd.dockerHost,
        AGENTS_SANDBOX_HOST_ID: `chaos-${this.prefix}`,
        AGENTS_SANDBOX_EXTRA_LABELS: labels.join(','),
      });
    }
    this.processes.set(
      kind,
      await startWorkerProcess(family, {
        prefix: this.prefix,
        fakeModelUrl: this.fakeModel.url,
        extraEnv,
        logDir: join(this.runDir, 'logs'),
      }),
    );
  }

  private async startApi(): Promise<void> {
    const api = startProcess('api', process.execPath, ['--import', 'tsx', join(projectRoot, 'api/main.ts')], {
      logFile: join(this.runDir, 'logs', 'api.log'),
      cwd: projectRoot,
      env: {
        ...process.env,
        DATABASE_URL: this.postgres.url,
        TEMPORAL_ADDRESS: `127.0.0.1:${this.ports.temporal}`,
        AGENTS_TASK_QUEUE_PREFIX: this.prefix,
        AGENTS_SANDBOX_IMAGE: inject('sandboxImage'),
        AGENTS_SESSION_SETTINGS: JSON.stringify(sessionSettings),
        AGENTS_IDEMPOTENCY_LEASE_S: '5',
        AGENTS_TENANT_REQUESTS_PER_SECOND: '0',
        API_PORT: String(this.ports.api),
        AGENTS_CODEC_PORT: '0',
        LOG_LEVEL: 'info',
      },
    });
    this.processes.set('api', api);
    await waitUntil('API', async () => (await fetch(`${this.apiUrl}/health`)).ok, {
      process: api,
      timeoutMs: 60_000,
    });
  }
}
