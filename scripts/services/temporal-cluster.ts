// A Temporal cluster as Temporal deploys it: the four services (frontend, matching, history, worker) as separate
// `temporal-server` processes, history sharded and run by several processes, persistence and visibility in two PostgreSQL
// databases whose schemas the server's own SQL tool applies. The binaries come from scripts/setup/temporal-server.sh.
// Configs are generated per process (JSON, which is YAML) into the run folder; processes find each other through the
// membership table in the persistence database.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDatabaseIfMissing } from './postgres.ts';
import {
  temporalDatabases,
  temporalDynamicConfig,
  temporalServerConfig,
  temporalServiceStartOrder,
  type TemporalClusterIdentity,
  type TemporalServiceName,
} from './temporal-server-config.ts';
import { freePort, portIsFree, startProcess, waitUntil, type ManagedProcess } from './process.ts';
import { registerNamespace, systemInfoAnswers, workflowRoundTrip } from './temporal-namespace.ts';

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
  /** For a replication group (bench/global-namespace.ts); default: a lone cluster. */
  cluster?: TemporalClusterIdentity;
  /** Database names on the PostgreSQL server (two clusters can share one server); default temporal, temporal_visibility. */
  databases?: { persistence: string; visibility: string };
}

export interface TemporalCluster {
  address: string;
  /** By name: frontend, matching, worker, history-1, history-2, ... */
  processes: Map<string, ManagedProcess>;
  stop(): Promise<void>;
}

interface ClusterProcess {
  name: string;
  service: TemporalServiceName;
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const namespace = options.namespace ?? 'default';
  await applySchemas(options.serverDir, options.postgresUrl, options.databases ?? temporalDatabases);
  const layout = await allocateProcesses(options.historyProcesses ?? 2);
  const configDir = join(options.runDir, 'temporal-config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'dynamicconfig.yaml'), JSON.stringify(temporalDynamicConfig(), null, 2));
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
async function applySchemas(
  serverDir: string,
  postgresUrl: string,
  databases: { persistence: string; visibility: string },
): Promise<void> {
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
  const make = async (name: string, service: TemporalServiceName): Promise<ClusterProcess> => ({
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

const byStartOrder = (a: ClusterProcess, b: ClusterProcess): number =>
  temporalServiceStartOrder.indexOf(a.service) - temporalServiceStartOrder.indexOf(b.service);

function startClusterProcess(options: TemporalClusterOptions, proc: ClusterProcess): ManagedProcess {
  const args = ['--root', options.runDir, '--config', 'temporal-config', '--env', proc.name, '--allow-no-auth'];
  args.push('start', '--service', proc.service);
  return startProcess(`temporal-${proc.name}`, join(options.serverDir, 'temporal-server'), args, {
    logFile: join(options.runDir, `temporal-${proc.name}.log`),
  });
}

/** One process's config: the shared server configuration with this cluster's loopback ports (its own service's entry
 * is the one that matters; the other processes of a service are found through membership). */
function serverConfig(
  options: TemporalClusterOptions,
  proc: ClusterProcess,
  layout: ClusterProcess[],
  configDir: string,
  frontendAddress: string,
): object {
  const url = new URL(options.postgresUrl);
  const portsOf = (service: TemporalServiceName) =>
    proc.service === service ? proc : layout.find((p) => p.service === service)!;
  return temporalServerConfig({
    postgres: { address: `${url.hostname}:${url.port}`, user: url.username, password: url.password },
    services: {
      frontend: portsOf('frontend'),
      matching: portsOf('matching'),
      history: portsOf('history'),
      worker: portsOf('worker'),
    },
    bindOnIP: '127.0.0.1',
    broadcastAddress: '127.0.0.1',
    frontendAddress,
    dynamicConfigPath: join(configDir, 'dynamicconfig.yaml'),
    historyShards: options.historyShards,
    cluster: options.cluster,
    databases: options.databases,
  });
}
