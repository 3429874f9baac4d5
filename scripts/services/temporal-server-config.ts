// The Temporal server configuration, one definition for both ways the project runs the server as Temporal deploys it:
// the cluster profile's processes on loopback (scripts/services/temporal-cluster.ts) and the compose deployment's
// containers (scripts/images/temporal-config.ts writes it into the Temporal image). Only addresses, ports and where the
// password comes from differ between the two; persistence, visibility, shards, membership and dynamic config do not.

export type TemporalServiceName = 'frontend' | 'matching' | 'history' | 'worker';

/** The order processes start in: history first (it owns the shards), frontend after matching, worker last. */
export const temporalServiceStartOrder: TemporalServiceName[] = ['history', 'matching', 'frontend', 'worker'];

export const temporalDatabases = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

/** History shards of every cluster this project creates (fixed for a cluster's life; README "Internet scale"). */
export const defaultHistoryShards = 8;

/** Which cluster this is, for multi-cluster replication (global namespaces); the default is a lone cluster. */
export interface TemporalClusterIdentity {
  name: string;
  /** Distinct per cluster of a replication group, below failoverVersionIncrement (10). */
  initialFailoverVersion: number;
  enableGlobalNamespace: boolean;
}

const loneCluster: TemporalClusterIdentity = {
  name: 'active',
  initialFailoverVersion: 1,
  enableGlobalNamespace: false,
};

export interface TemporalServicePorts {
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

export interface TemporalServerConfigInput {
  /** PostgreSQL host and port (`host:port`), user and password (or a config template expression for it). */
  postgres: { address: string; user: string; password: string };
  /** The ports of each service this config describes (a process uses its own service's entry). */
  services: Record<TemporalServiceName, TemporalServicePorts>;
  /** The address services bind to, and the one they announce to each other through membership. */
  bindOnIP: string;
  broadcastAddress: string;
  /** The frontend's gRPC address, as the cluster metadata names it. */
  frontendAddress: string;
  dynamicConfigPath: string;
  historyShards?: number;
  cluster?: TemporalClusterIdentity;
  databases?: { persistence: string; visibility: string };
}

/** One process's full config: persistence and visibility in two PostgreSQL databases, membership through the first. */
export function temporalServerConfig(input: TemporalServerConfigInput): object {
  const cluster = input.cluster ?? loneCluster;
  const databases = input.databases ?? temporalDatabases;
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: input.postgres.address,
      connectProtocol: 'tcp',
      user: input.postgres.user,
      password: input.postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const services: Record<string, object> = {};
  for (const service of temporalServiceStartOrder) {
    const ports = input.services[service];
    services[service] = {
      rpc: {
        grpcPort: ports.grpcPort,
        membershipPort: ports.membershipPort,
        bindOnIP: input.bindOnIP,
        ...(ports.httpPort ? { httpPort: ports.httpPort } : {}),
      },
    };
  }
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: input.historyShards ?? defaultHistoryShards,
      datastores: {
        'postgres-default': sql(databases.persistence, 10),
        'postgres-visibility': sql(databases.visibility, 4),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: input.broadcastAddress } },
    services,
    // Other clusters of a replication group are added at run time (operator addOrUpdateRemoteCluster), not here.
    clusterMetadata: {
      enableGlobalNamespace: cluster.enableGlobalNamespace,
      failoverVersionIncrement: 10,
      masterClusterName: cluster.name,
      currentClusterName: cluster.name,
      clusterInformation: {
        [cluster.name]: {
          enabled: true,
          initialFailoverVersion: cluster.initialFailoverVersion,
          rpcName: 'frontend',
          rpcAddress: input.frontendAddress,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: input.dynamicConfigPath, pollInterval: '10s' },
  };
}

/**
 * How often a history shard may read its task queues (transfer: workflow and activity tasks handed to matching; timer;
 * visibility). Temporal's default is 20 reads per second per shard, a token bucket: a session's first ~20 dispatches
 * go out at once, then every workflow or activity task waits for the next token — a step of the agent loop (four
 * dispatches) was pinned at 200 ms instead of ~105 ms after its first second (bench P1, issue 19). One session always
 * lives on one shard, so more shards do not lift it. Set on every server we start: dev server and cluster.
 */
export const taskDispatchReadRates: Record<string, number> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
};

/** What the dev server sets too: search attributes visible as soon as they are added (they are added once, at start). */
export function temporalDynamicConfig(): Record<string, { value: unknown }[]> {
  return {
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
    'frontend.persistenceMaxQPS': [{ value: 10000 }],
    'history.persistenceMaxQPS': [{ value: 45000 }],
    'frontend.namespaceRPS.visibility': [{ value: 100 }],
    ...Object.fromEntries(Object.entries(taskDispatchReadRates).map(([key, value]) => [key, [{ value }]])),
  };
}
