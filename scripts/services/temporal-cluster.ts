// A Temporal cluster as Temporal deploys it: the four services (frontend, matching, history, worker) as separate
// `temporal-server` processes, history sharded and run by several processes, persistence and visibility in two PostgreSQL
// databases whose schemas the server's own SQL tool applies. The binaries come from scripts/setup/temporal-server.sh.
// Configs are generated per process (JSON, which is YAML) into the run folder; processes find each other through the
// membership table in the persistence database.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import proto from '@temporalio/proto';
import { sessionSearchAttributes } from '../../domain/search-attributes.ts';
import { createDatabaseIfMissing } from './postgres.ts';
import { freePort, portIsFree, startProcess, waitUntil, type ManagedProcess } from './process.ts';

const run = promisify(execFile);

export interface TemporalClusterOptions {
  /** Holds temporal-server, temporal-sql-tool and schema/postgresql/v12 (scripts/setup/temporal-server.sh). */
  serverDir: string;
  /** An admin URL of the PostgreSQL server (postgres://user@host:port/db); the two Temporal databases are created on it. */
  postgresUrl: string;
  /** Configs and per-process logs go here. */
  runDir: string;
  historyShards?: number;
  historyProcesses?: number;
  namespace?: string;
}

export interface TemporalCluster {
  address: string;
  /** By name: frontend, matching, worker, history-1, history-2, ... */
  processes: Map<string, ManagedProcess>;
  stop(): Promise<void>;
}

type ServiceName = 'frontend' | 'matching' | 'history' | 'worker';

interface ClusterProcess {
  name: string;
  service: ServiceName;
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

const databases = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const namespace = options.namespace ?? 'default';
  await applySchemas(options.serverDir, options.postgresUrl);
  const layout = await allocateProcesses(options.historyProcesses ?? 2);
  const configDir = join(options.runDir, 'temporal-config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'dynamicconfig.yaml'), JSON.stringify(dynamicConfig(), null, 2));
  const frontend = layout.find((p) => p.service === 'frontend')!;
  const address = `127.0.0.1:${frontend.grpcPort}`;
  const processes = new Map<string, ManagedProcess>();
  const stop = async (): Promise<void> => {
    await Promise.all([...processes.values()].map((p) => p.stop('SIGTERM', 5_000)));
  };
  try {
    // History first (it owns the shards), frontend last; membership lets them start in any order.
    for (const proc of [...layout].sort(byStartOrder)) {
      const config = serverConfig(options, proc, layout, configDir, address);
      writeFileSync(join(configDir, `${proc.name}.yaml`), JSON.stringify(config, null, 2));
      processes.set(proc.name, startClusterProcess(options, proc));
    }
    await waitUntil('Temporal cluster frontend', () => systemInfoAnswers(address), {
      process: processes.get('frontend'),
      timeoutMs: 120_000,
    });
    await registerNamespace(address, namespace);
    await waitUntil('Temporal cluster accepts workflows', () => workflowRoundTrip(address, namespace), {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, processes, stop };
}

/** Creates both databases and brings their schemas to the newest version with temporal-sql-tool. */
async function applySchemas(serverDir: string, postgresUrl: string): Promise<void> {
  const url = new URL(postgresUrl);
  for (const [kind, database] of Object.entries(databases)) {
    await createDatabaseIfMissing(postgresUrl, database);
    const common = [
      '--plugin',
      'postgres12',
      '--ep',
      url.hostname,
      '-p',
      url.port,
      '-u',
      url.username,
      '--db',
      database,
    ];
    const tool = join(serverDir, 'temporal-sql-tool');
    const schemaDir = join(
      serverDir,
      'schema',
      'postgresql',
      'v12',
      kind === 'persistence' ? 'temporal' : 'visibility',
    );
    await run(tool, [...common, 'setup-schema', '-v', '0.0']);
    await run(tool, [...common, 'update-schema', '-d', join(schemaDir, 'versioned')]);
  }
}

async function allocateProcesses(historyProcesses: number): Promise<ClusterProcess[]> {
  const make = async (name: string, service: ServiceName): Promise<ClusterProcess> => ({
    name,
    service,
    grpcPort: await freePort(),
    membershipPort: await freeMembershipPort(),
    httpPort: service === 'frontend' ? await freePort() : undefined,
  });
  const layout = [
    await make('frontend', 'frontend'),
    await make('matching', 'matching'),
    await make('worker', 'worker'),
  ];
  for (let i = 1; i <= historyProcesses; i++) layout.push(await make(`history-${i}`, 'history'));
  return layout;
}

/** A free port below 32768: the SQL membership table stores it as a smallint (ephemeral ports are above). */
async function freeMembershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portIsFree(port)) return port;
  }
}

const startOrder: ServiceName[] = ['history', 'matching', 'frontend', 'worker'];
const byStartOrder = (a: ClusterProcess, b: ClusterProcess): number =>
  startOrder.indexOf(a.service) - startOrder.indexOf(b.service);

function startClusterProcess(options: TemporalClusterOptions, proc: ClusterProcess): ManagedProcess {
  const args = ['--root', options.runDir, '--config', 'temporal-config', '--env', proc.name, '--allow-no-auth'];
  args.push('start', '--service', proc.service);
  return startProcess(`temporal-${proc.name}`, join(options.serverDir, 'temporal-server'), args, {
    logFile: join(options.runDir, `temporal-${proc.name}.log`),
  });
}

/** One process's full config: the same cluster everywhere, only its own service's ports differ. */
function serverConfig(
  options: TemporalClusterOptions,
  proc: ClusterProcess,
  layout: ClusterProcess[],
  configDir: string,
  frontendAddress: string,
): object {
  const url = new URL(options.postgresUrl);
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${url.hostname}:${url.port}`,
      connectProtocol: 'tcp',
      user: url.username,
      password: url.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  // Each service entry names the ports of one process of that service; the other processes of the service are found
  // through membership, so this process's own entry is what matters.
  const services: Record<string, object> = {};
  for (const service of startOrder) {
    const entry = proc.service === service ? proc : layout.find((p) => p.service === service)!;
    services[service] = {
      rpc: {
        grpcPort: entry.grpcPort,
        membershipPort: entry.membershipPort,
        bindOnIP: '127.0.0.1',
        ...(entry.httpPort ? { httpPort: entry.httpPort } : {}),
      },
    };
  }
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.historyShards ?? 8,
      datastores: {
        'postgres-default': sql(databases.persistence, 10),
        'postgres-visibility': sql(databases.visibility, 4),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontendAddress },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: join(configDir, 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
}

/** What the dev server sets too: search attributes visible as soon as they are added (they are added once, at start). */
function dynamicConfig(): Record<string, { value: unknown }[]> {
  return {
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
    'frontend.persistenceMaxQPS': [{ value: 10000 }],
    'history.persistenceMaxQPS': [{ value: 45000 }],
    'frontend.namespaceRPS.visibility': [{ value: 100 }],
  };
}

async function withConnection<T>(address: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

async function systemInfoAnswers(address: string): Promise<boolean> {
  return withConnection(address, async (c) => {
    await c.workflowService.getSystemInfo({});
    return true;
  });
}

/** Registers the namespace (when missing) and the project's search attributes on it (SQL visibility: per namespace). */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  await withConnection(address, async (c) => {
    try {
      await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    } catch (error) {
      if (!String(error).includes('already')) throw error;
    }
  });
  const types = proto.temporal.api.enums.v1.IndexedValueType;
  const searchAttributes = Object.fromEntries(
    Object.entries(sessionSearchAttributes).map(([name, type]) => [
      name,
      types[`INDEXED_VALUE_TYPE_${type.toUpperCase()}` as keyof typeof types],
    ]),
  );
  await waitUntil(
    'search attributes registered',
    () =>
      withConnection(address, async (c) => {
        try {
          await c.operatorService.addSearchAttributes({ namespace, searchAttributes });
        } catch (error) {
          if (!String(error).includes('already')) throw error;
        }
        return true;
      }),
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** Starts and terminates a throwaway workflow: the namespace has reached history and matching. */
async function workflowRoundTrip(address: string, namespace: string): Promise<boolean> {
  return withConnection(address, async (c) => {
    const workflowId = `cluster-probe-${Date.now()}`;
    await c.workflowService.startWorkflowExecution({
      namespace,
      workflowId,
      requestId: workflowId,
      workflowType: { name: 'cluster-probe' },
      taskQueue: { name: 'cluster-probe' },
    });
    await c.workflowService.terminateWorkflowExecution({ namespace, workflowExecution: { workflowId } });
    return true;
  });
}
