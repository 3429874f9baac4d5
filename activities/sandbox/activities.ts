// The sandbox activities, registered by the sandbox worker of one Docker host. createSandbox runs from the shared
// sandbox queue (any host may take it) and returns a lease naming this host's queue; every later operation on the
// lease is routed to that queue, so it reaches the host that holds the container.
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type pg from 'pg';
import {
  endSandboxRun,
  endSessionSandboxRuns,
  resumeSandboxRun,
  startSandboxRun,
  tenantOfContainer,
} from '../../db/repositories/sandbox-runs.ts';
import { appendSessionEvents } from '../../db/repositories/session-events.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import type {
  CreateSandboxInput,
  CreatedSandbox,
  DestroySandboxInput,
  EnvironmentImage,
  PrepareEnvironmentImageInput,
  RunToolInput,
  RunToolResult,
  SandboxLeaseInput,
} from '../../domain/contracts/sandbox-activity.ts';
import type { SecretBox } from '../../db/repositories/secret-box.ts';
import type { EnvironmentPackages } from '../../domain/session.ts';
import type { UrlGuard } from '../../net/url-guard.ts';
import { toApplicationFailure } from '../failures.ts';
import { daemonOutageFailure } from './daemon-outage.ts';
import { DockerSandbox, SandboxGoneError } from './docker-sandbox.ts';
import { ensureEnvironmentImage, EnvironmentImageError, hasPackages } from './environment-image.ts';
import { planEgress, type EgressGateway } from './egress/gateway.ts';
import { SnapshotStore } from './snapshot-store.ts';
import { RepositoryCloner } from './repository-clone.ts';
import { captureSessionOutputs } from './session-files.ts';
import { SessionResourceSync } from './session-resources.ts';
import { mountSessionSkills } from './session-skills.ts';
import { mountSessionMemory, syncSessionMemory } from './session-memory.ts';
import { heartbeating } from '../heartbeats.ts';
import { runSandboxTool } from './tools.ts';
import { waitForSandboxSlot, type LiveSandboxLimit } from './sandbox-quota.ts';
import type { WarmPool } from './warm-pool.ts';
import type { EnvironmentPools } from './environment-pools.ts';

export interface SandboxActivityDeps {
  docker: Docker;
  pool: pg.Pool;
  /** This host's own task queue, written into every lease it hands out. */
  hostQueue: string;
  /** Labels added to every container (tests mark their run with them). */
  extraLabels?: Record<string, string>;
  /** Called while long operations wait; defaults to the activity heartbeat when running inside an activity. */
  heartbeat?: () => void;
  /** Warm pools of this host (the worker starts and stops them); createSandbox claims from the first that fits. */
  warmPools?: WarmPool[];
  /** Pools made on demand for the specs no warm pool fits (environments with packages); absent, none are made. */
  environmentPools?: EnvironmentPools;
  /** PEM certificates trusted while building environment images (see AGENTS_SANDBOX_BUILD_CA_FILE). */
  buildCaCertificates?: Buffer;
  /** How long one attempt waits for an unreachable Docker daemon before failing (retryably); default 60 s. */
  daemonOutageWaitMs?: number;
  /** The host's egress proxy (egress/gateway.ts): needed for sandboxes with `egress` networking or credentials. */
  egress?: EgressGateway;
  /** Host folder of the exec agents' sockets (agent-host.ts); null: docker exec only; unset: the default folder. */
  agentRoot?: string | null;
  /** What cloning github_repository resources needs; without it they fail with repository_clone_error. */
  repositories?: RepositoryDeps;
  /** The tenants' `max_live_sandboxes` (sandbox-quota.ts); absent, sandboxes are not limited. */
  liveSandboxLimit?: LiveSandboxLimit;
  /** Host folders every sandbox sees read-only (the Claude Code runtime, claude-harness/runtime.ts). */
  runtimeMounts?: Docker.MountSettings[];
}

export interface RepositoryDeps {
  /** Opens repository resources' tokens (AGENTS_VAULT_KEY). */
  secretBox: SecretBox;
  /** Checks repository URLs when git connects (AGENTS_PRIVATE_NETWORK_ALLOWLIST). */
  urlGuard: UrlGuard;
  /** AGENTS_REPOSITORY_HOSTS. */
  allowedHosts: readonly string[];
}

/** Heartbeats when called inside an activity; a no-op elsewhere (unit tests call the functions directly). */
export function activityHeartbeat(): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat();
}

/** Logs through the activity's logger when called inside an activity; a no-op elsewhere. */
function activityWarning(message: string): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.log.warn(message);
}

export function createSandboxActivities(deps: SandboxActivityDeps) {
  const snapshots = new SnapshotStore(deps.pool);
  const sandbox = new DockerSandbox(deps.docker, {
    snapshots,
    extraLabels: deps.extraLabels,
    egress: deps.egress,
    agentRoot: deps.agentRoot,
    runtimeMounts: deps.runtimeMounts,
  });
  const heartbeat = deps.heartbeat ?? activityHeartbeat;
  const warmPools = deps.warmPools ?? [];
  const repositories = deps.repositories;
  const resources = new SessionResourceSync({
    pool: deps.pool,
    repositories: repositories && {
      secretBox: repositories.secretBox,
      cloner: new RepositoryCloner({
        guard: repositories.urlGuard,
        allowedHosts: repositories.allowedHosts,
        onProgress: heartbeat,
      }),
    },
    onWarning: activityWarning,
  });
  /** Who a container belongs to, remembered from its creation (asked of Docker once after a worker restart). */
  const owners = new Map<string, SandboxOwner>();
  const ownerOf = async (containerId: string): Promise<SandboxOwner | undefined> => {
    const known = owners.get(containerId) ?? (await sandbox.owner(containerId));
    if (known) owners.set(containerId, known);
    return known;
  };
  const outage = {
    docker: deps.docker,
    heartbeat,
    maxWaitMs: deps.daemonOutageWaitMs ?? 60_000,
    onOutage: activityWarning,
  };

  /** Waits while the tenant runs its `max_live_sandboxes` already (the session waits; see sandbox-quota.ts). */
  async function sandboxSlot(tenantId: string): Promise<void> {
    if (!deps.liveSandboxLimit) return;
    const sleep = async (ms: number) => {
      heartbeat();
      await new Promise((resolve) => setTimeout(resolve, ms));
      heartbeat();
    };
    await waitForSandboxSlot({ pool: deps.pool, limit: deps.liveSandboxLimit, sleep }, tenantId);
  }

  /** A restarting or stopped daemon is waited out (see daemon-outage.ts) before the attempt fails. */
  async function withDaemon<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw (await daemonOutageFailure(error, outage)) ?? error;
    }
  }

  /** Lets the workflow tell a lost container (recreate it from the last snapshot) from other failures. */
  async function onContainer<T>(operation: () => Promise<T>): Promise<T> {
    return withDaemon(async () => {
      try {
        return await operation();
      } catch (error) {
        throw error instanceof SandboxGoneError ? toApplicationFailure(error) : error;
      }
    });
  }

  /** The environment image on this host, as an activity failure the workflow can tell apart when the build fails. */
  async function environmentImage(baseImage: string, packages: EnvironmentPackages): Promise<EnvironmentImage> {
    try {
      return await ensureEnvironmentImage(deps.docker, baseImage, packages, {
        caCertificates: deps.buildCaCertificates,
        onProgress: heartbeat,
      });
    } catch (error) {
      throw error instanceof EnvironmentImageError ? toApplicationFailure(error) : error;
    }
  }

  /** runTool's work in the container: its resources brought up to date, then the tool. */
  async function runToolInContainer(input: RunToolInput): Promise<RunToolResult> {
    const { containerId } = input.lease;
    return onContainer(async () => {
      const owner = await ownerOf(containerId);
      const repositoryErrors = owner
        ? await sandbox.guard(containerId, () => resources.sync(deps.docker.getContainer(containerId), owner, false))
        : [];
      await deps.egress?.ensure(containerId);
      const outcome = await runSandboxTool(
        {
          sandbox,
          containerId,
          toolUseId: input.toolUseId,
          env: { ...input.env, ...deps.egress?.execEnv(containerId) },
          onProgress: heartbeat,
        },
        input.name,
        input.input,
      );
      const reported = repositoryErrors.length > 0 ? { repositoryErrors } : {};
      if (!deps.egress) return { ...outcome, ...reported };
      // The tool's connections are in the egress log before its result is.
      await deps.egress.flush();
      return { ...outcome, content: deps.egress.redact(containerId, outcome.content), ...reported };
    });
  }

  /** A container for the owner: claimed from a warm pool, restored from a snapshot, or new. */
  async function createSandbox(input: CreateSandboxInput): Promise<CreatedSandbox> {
    await sandboxSlot(input.owner.tenantId);
    const planned = await planEgress(deps.egress, input.spec, input.owner);
    const spec = hasPackages(input.packages)
      ? { ...planned.spec, image: (await environmentImage(input.spec.image, input.packages ?? {})).image }
      : planned.spec;
    const configured = warmPools.find((candidate) => candidate.fits(spec));
    const pool = input.snapshotId ? undefined : (configured ?? deps.environmentPools?.find(spec));
    const warm = await pool?.claim(input.owner);
    const containerId =
      warm ??
      (input.snapshotId
        ? await sandbox.restore(spec, input.owner, input.snapshotId)
        : await sandbox.create(spec, input.owner));
    if (!warm && !configured) deps.environmentPools?.keepWarm(spec);
    let repositoryErrors;
    try {
      const container = deps.docker.getContainer(containerId);
      repositoryErrors = await resources.sync(container, input.owner, true);
      await mountSessionSkills(deps.pool, container, input.owner, input.skills ?? [], activityWarning);
      await mountSessionMemory(deps.pool, container, input.owner);
    } catch (error) {
      await sandbox.destroy(containerId);
      throw error;
    }
    owners.set(containerId, input.owner);
    await startSandboxRun(deps.pool, containerId, input.owner);
    return {
      containerId,
      hostQueue: deps.hostQueue,
      state: 'running',
      ...(input.snapshotId ? { snapshotId: input.snapshotId } : {}),
      ...(planned.unreachable.length > 0 ? { unreachableCredentials: planned.unreachable } : {}),
      ...(repositoryErrors.length > 0 ? { repositoryErrors } : {}),
    };
  }

  /**
   * Best effort: a stopped or lost container cannot run the capture (its last turn's outputs were captured at that
   * turn's end), and the snapshot or removal that follows must not depend on it.
   */
  async function captureOutputs(containerId: string): Promise<void> {
    try {
      await sandbox.guard(containerId, async () => {
        const owner = await sandbox.owner(containerId);
        if (owner) await captureSessionOutputs(deps.pool, deps.docker.getContainer(containerId), owner);
      });
    } catch (error) {
      activityWarning(`outputs of container ${containerId} not captured: ${String(error)}`);
    }
  }

  /**
   * Writes the agent's memory changes back as memory versions. Best effort like the capture: a failed sync leaves the
   * mount's bases where they were, so the next sync (next turn's end, or the removal) writes the same changes.
   */
  async function syncMemory(containerId: string): Promise<void> {
    try {
      await sandbox.guard(containerId, async () => {
        const owner = await sandbox.owner(containerId);
        if (!owner) return;
        const report = await syncSessionMemory(deps.pool, deps.docker.getContainer(containerId), owner);
        if (report.conflicts.length > 0) {
          activityWarning(
            `memory changed since the mount; recorded as further versions: ${report.conflicts.join(', ')}`,
          );
        }
        if (report.skipped.length > 0) activityWarning(`memory not synced: ${report.skipped.join('; ')}`);
      });
    } catch (error) {
      activityWarning(`memory of container ${containerId} not synced: ${String(error)}`);
    }
  }

  return {
    async createSandbox(input: CreateSandboxInput): Promise<CreatedSandbox> {
      return heartbeating(heartbeat, () => withDaemon(() => createSandbox(input)));
    },

    /**
     * Builds (or finds) the image with the environment's packages on this host; returns its tag. createSandbox does the
     * same on its own, so calling this first only moves the build off the session's first tool call.
     */
    async prepareEnvironmentImage(input: PrepareEnvironmentImageInput): Promise<EnvironmentImage> {
      return heartbeating(heartbeat, () => withDaemon(() => environmentImage(input.baseImage, input.packages)));
    },

    /** Brings the container's resources up to date (see session-resources.ts), then runs the tool. */
    async runTool(input: RunToolInput): Promise<RunToolResult> {
      // The handed-off events are written beside the tool's own work (the tool does not read them): a failed write
      // fails the attempt, and the retry finds the at-most-once command's recorded result.
      const written = input.unwrittenEvents ? appendSessionEvents(deps.pool, input.unwrittenEvents) : undefined;
      const [result] = await Promise.all([runToolInContainer(input), written]);
      return result;
    },

    async pauseSandbox(input: SandboxLeaseInput): Promise<void> {
      await onContainer(() => sandbox.pause(input.lease.containerId));
      await endSandboxRun(deps.pool, input.lease.containerId);
    },

    async resumeSandbox(input: SandboxLeaseInput): Promise<void> {
      const tenantId = deps.liveSandboxLimit && (await tenantOfContainer(deps.pool, input.lease.containerId));
      if (tenantId) await sandboxSlot(tenantId);
      await onContainer(() => sandbox.unpause(input.lease.containerId));
      await resumeSandboxRun(deps.pool, input.lease.containerId);
    },

    /** Captures the outputs folder, syncs memory stores back, then stores /workspace in PostgreSQL; returns its id. */
    async snapshotSandbox(input: SandboxLeaseInput): Promise<string> {
      return heartbeating(heartbeat, async () => {
        await captureOutputs(input.lease.containerId);
        await syncMemory(input.lease.containerId);
        return onContainer(() => sandbox.snapshot(input.lease.containerId));
      });
    },

    /** Removes the lease's container (if any) and every container of the session on this host; idempotent. */
    async destroySandbox(input: DestroySandboxInput): Promise<void> {
      if (input.lease && !input.deleteSnapshots) await captureOutputs(input.lease.containerId);
      if (input.lease) await syncMemory(input.lease.containerId);
      await withDaemon(async () => {
        if (input.lease) await sandbox.destroy(input.lease.containerId);
        await sandbox.destroyOwned(input.owner);
      });
      if (input.lease) {
        owners.delete(input.lease.containerId);
        resources.forget(input.lease.containerId);
      }
      await endSessionSandboxRuns(deps.pool, input.owner);
      if (input.deleteSnapshots) await snapshots.deleteForSession(input.owner);
    },
  };
}

export type SandboxActivities = ReturnType<typeof createSandboxActivities>;
