// Operations on a Worker Deployment (README "Worker versioning"): make a version current or ramp it, read the routing
// and each version's drainage, retire drained versions. Used by scripts/deploy-version.ts and the versioning test.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

const { VersionDrainageStatus, WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;
const identity = 'agents-deploy-version';

export interface DeploymentTarget {
  connection: Connection;
  namespace: string;
  deploymentName: string;
}

export interface VersionState {
  buildId: string;
  /** inactive | current | ramping | draining | drained */
  status: string;
  /** For a draining or drained version: whether pinned sessions still run on it. */
  drainage: 'draining' | 'drained' | 'unknown';
}

export interface DeploymentState {
  currentBuildId: string | undefined;
  rampingBuildId: string | undefined;
  rampPercentage: number;
  versions: VersionState[];
}

const statusName = (status: number | null | undefined): string =>
  (WorkerDeploymentVersionStatus[status ?? 0] ?? 'UNSPECIFIED')
    .replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '')
    .toLowerCase();

const drainageName = (status: number | null | undefined): VersionState['drainage'] =>
  status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED
    ? 'drained'
    : status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING
      ? 'draining'
      : 'unknown';

export async function describeDeployment(target: DeploymentTarget): Promise<DeploymentState> {
  const { workerDeploymentInfo: info } = await target.connection.workflowService.describeWorkerDeployment({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
  });
  const routing = info?.routingConfig;
  return {
    currentBuildId: routing?.currentDeploymentVersion?.buildId ?? undefined,
    rampingBuildId: routing?.rampingDeploymentVersion?.buildId ?? undefined,
    rampPercentage: routing?.rampingVersionPercentage ?? 0,
    versions: (info?.versionSummaries ?? []).map((summary) => ({
      buildId: summary.deploymentVersion?.buildId ?? '',
      status: statusName(summary.status),
      drainage: drainageName(summary.drainageInfo?.status ?? summary.drainageStatus),
    })),
  };
}

/** Waits until a worker of `buildId` has polled (the version exists in the deployment), or throws after timeoutMs. */
export async function waitForVersion(target: DeploymentTarget, buildId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const state = await describeDeployment(target);
      if (state.versions.some((version) => version.buildId === buildId)) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no worker of build ${buildId} in ${target.deploymentName} yet`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** New sessions start on `buildId` from now on; sessions pinned to older versions stay where they are. */
export async function setCurrentVersion(target: DeploymentTarget, buildId: string): Promise<void> {
  await target.connection.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
    buildId,
    identity,
  });
}

/** `percentage` % of new sessions start on `buildId`, the rest on the current version. */
export async function setRampingVersion(target: DeploymentTarget, buildId: string, percentage: number): Promise<void> {
  await target.connection.workflowService.setWorkerDeploymentRampingVersion({
    namespace: target.namespace,
    deploymentName: target.deploymentName,
    buildId,
    percentage,
    identity,
  });
}

/**
 * Deletes every version that is drained (no open session pinned to it) and has no pollers left; returns their build
 * ids. A version whose workers still poll is refused by the server: stop its workers first.
 */
export async function retireDrainedVersions(target: DeploymentTarget): Promise<string[]> {
  const state = await describeDeployment(target);
  const retired: string[] = [];
  for (const version of state.versions) {
    if (version.status !== 'drained' && version.drainage !== 'drained') continue;
    await target.connection.workflowService.deleteWorkerDeploymentVersion({
      namespace: target.namespace,
      deploymentVersion: { deploymentName: target.deploymentName, buildId: version.buildId },
      identity,
    });
    retired.push(version.buildId);
  }
  return retired;
}
