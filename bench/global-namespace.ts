// What multi-cluster replication does here (README "Internet scale"): two Temporal clusters of the cluster profile
// (scripts/services/temporal-cluster.ts) — "region-a" and "region-b", each frontend, matching, worker and one history
// process, each with its own databases on one PostgreSQL server — connected as a replication group, a global namespace
// active in region-a, a workflow started and signalled there, its history replicated to region-b; then a failover to
// region-b: signals are accepted there and replicated back. Measures the namespace's and the history's replication lag
// and the failover time (update → first signal accepted by region-b). On demand, 2 cores: one run, no load.
// Run: `bash scripts/setup/temporal-server.sh && node --import tsx bench/global-namespace.ts`; writes
// bench/results/global-namespace.json.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { startLocalPostgres } from '../scripts/services/postgres.ts';
import { freePort, waitUntil } from '../scripts/services/process.ts';
import { startTemporalCluster, type TemporalCluster } from '../scripts/services/temporal-cluster.ts';
import { readClusterServerDir, readToolsEnv } from '../scripts/services/tools-env.ts';

const namespace = 'agents-global';
const signals = 20;

async function region(name: string, version: number, postgresUrl: string, runDir: string): Promise<TemporalCluster> {
  return startTemporalCluster({
    serverDir: readClusterServerDir(),
    postgresUrl,
    runDir: join(runDir, name),
    historyProcesses: 1,
    cluster: { name, initialFailoverVersion: version, enableGlobalNamespace: true },
    databases: {
      persistence: `temporal_${name.replace('-', '_')}`,
      visibility: `visibility_${name.replace('-', '_')}`,
    },
  });
}

async function historyLength(connection: Connection, workflowId: string): Promise<number> {
  const history = await connection.workflowService.getWorkflowExecutionHistory({
    namespace,
    execution: { workflowId },
    maximumPageSize: 1000,
  });
  return history.history?.events?.length ?? 0;
}

async function signal(connection: Connection, workflowId: string): Promise<void> {
  await connection.workflowService.signalWorkflowExecution({
    namespace,
    workflowExecution: { workflowId },
    signalName: 'probe',
    requestId: randomUUID(),
  });
}

/** Milliseconds until `probe` holds (polled every 50 ms). */
async function timeUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const start = performance.now();
  await waitUntil(what, probe, { timeoutMs, intervalMs: 50 });
  return Math.round(performance.now() - start);
}

const runDir = mkdtempSync(join(tmpdir(), 'agents-global-ns-'));
chmodSync(runDir, 0o755); // the postgres system user must reach its data folder inside
const postgres = await startLocalPostgres({
  binDir: readToolsEnv().pgBinDir ?? '',
  dataDir: join(runDir, 'pg'),
  port: await freePort(),
  logFile: join(runDir, 'postgres.log'),
  ephemeral: true,
});
const clusters: TemporalCluster[] = [];
try {
  const a = await region('region-a', 1, postgres.url, runDir);
  clusters.push(a);
  const b = await region('region-b', 2, postgres.url, runDir);
  clusters.push(b);
  const ca = await Connection.connect({ address: a.address });
  const cb = await Connection.connect({ address: b.address });

  // Connect the clusters both ways, then register the global namespace, active in region-a.
  await ca.operatorService.addOrUpdateRemoteCluster({
    frontendAddress: b.address,
    enableRemoteClusterConnection: true,
  });
  await cb.operatorService.addOrUpdateRemoteCluster({
    frontendAddress: a.address,
    enableRemoteClusterConnection: true,
  });
  // Each cluster learns of the other when it next reloads its cluster metadata: until then, "Invalid cluster name".
  const clusterConnectMs = await timeUntil('clusters know each other', async () => {
    await ca.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
      isGlobalNamespace: true,
      clusters: [{ clusterName: 'region-a' }, { clusterName: 'region-b' }],
      activeClusterName: 'region-a',
    });
    return true;
  });
  const namespaceReplicationMs = await timeUntil('namespace in region-b', async () => {
    const described = await cb.workflowService.describeNamespace({ namespace });
    return described.replicationConfig?.activeClusterName === 'region-a';
  });

  // A workflow (no worker needed: its history grows with signals) in region-a, read back from region-b.
  const workflowId = `global-probe-${Date.now()}`;
  await waitUntil(
    'region-a takes workflows in the namespace',
    async () => {
      await ca.workflowService.startWorkflowExecution({
        namespace,
        workflowId,
        requestId: workflowId,
        workflowType: { name: 'probe' },
        taskQueue: { name: 'probe' },
      });
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  for (let n = 0; n < signals; n++) await signal(ca, workflowId);
  const eventsInA = await historyLength(ca, workflowId);
  const historyReplicationMs = await timeUntil(
    'history in region-b',
    async () => (await historyLength(cb, workflowId)) >= eventsInA,
  );
  const standbyRefusal = await signal(cb, workflowId).then(
    () => 'accepted',
    (error: unknown) => String(error).slice(0, 200),
  );

  // Failover: region-b becomes active; a signal there is accepted; it replicates back to region-a.
  const failoverStart = performance.now();
  await ca.workflowService.updateNamespace({ namespace, replicationConfig: { activeClusterName: 'region-b' } });
  let attempt = 0;
  await waitUntil('region-b accepts a signal', async () => (attempt++, await signal(cb, workflowId), true), {
    timeoutMs: 180_000,
    intervalMs: 100,
  });
  const failoverMs = Math.round(performance.now() - failoverStart);
  for (let n = 0; n < signals; n++) await signal(cb, workflowId);
  const eventsInB = await historyLength(cb, workflowId);
  const backReplicationMs = await timeUntil(
    'history back in region-a',
    async () => (await historyLength(ca, workflowId)) >= eventsInB,
  );

  // Region lost: 20 more signals in region-b, then every region-b process SIGKILLed at once; failover to region-a
  // from region-a itself. What region-a has of region-b's last writes is the data loss (RPO) of this failover.
  for (let n = 0; n < signals; n++) await signal(cb, workflowId);
  const eventsBeforeLoss = await historyLength(cb, workflowId);
  await Promise.all([...b.processes.values()].map((p) => p.stop('SIGKILL')));
  const lossStart = performance.now();
  await ca.workflowService.updateNamespace({ namespace, replicationConfig: { activeClusterName: 'region-a' } });
  let lossAttempts = 0;
  await waitUntil('region-a accepts a signal', async () => (lossAttempts++, await signal(ca, workflowId), true), {
    timeoutMs: 180_000,
    intervalMs: 100,
  });
  const unplannedFailoverMs = Math.round(performance.now() - lossStart);
  const eventsInAAfterLoss = (await historyLength(ca, workflowId)) - 1; // less the one accepted signal
  const result = {
    date: new Date().toISOString(),
    machine: { cores: (await import('node:os')).cpus().length },
    clusters: 'two clusters of the cluster profile (frontend, matching, worker, 1 history; 8 shards) on one PostgreSQL',
    clusterConnectMs,
    namespaceReplicationMs,
    signalsPerPhase: signals,
    eventsInA,
    historyReplicationMs,
    standbyRefusal,
    failoverMs,
    failoverSignalAttempts: attempt,
    eventsInB,
    backReplicationMs,
    eventsBeforeLoss,
    unplannedFailoverMs,
    unplannedFailoverSignalAttempts: lossAttempts,
    eventsInAAfterLoss,
    eventsLost: eventsBeforeLoss - eventsInAAfterLoss,
  };
  writeFileSync(join(import.meta.dirname, 'results', 'global-namespace.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  await ca.close();
  await cb.close();
} finally {
  await Promise.all(clusters.map((cluster) => cluster.stop()));
  await postgres.process.stop();
  if (!process.env.AGENTS_KEEP_RUN_DIR) rmSync(runDir, { recursive: true, force: true });
}
