// One Docker container per session (its definition in container-spec.ts): create or claim, pause and resume, exec,
// files, snapshot and restore of /workspace, removal, and the reaper's listing. Docker's "no such container" and
// "not running" answers become SandboxGoneError, so the session recreates the sandbox from its last snapshot.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { ErrorCode, PlatformError } from '../../domain/errors.ts';
import type { SandboxOwner, SandboxSpec } from '../../domain/sandbox.ts';
import {
  containerNameFor,
  mebibyte,
  ownerOf,
  poolContainerNamePrefix,
  sandboxContainerOptions,
  sandboxLabels,
} from './container-spec.ts';
import { agentHostFor, type AgentHost } from './agent-host.ts';
import { AgentUnavailableError, runThroughAgent } from './agent-client.ts';
import { runProcess, sandboxUser, type ProcessOptions, type ProcessResult } from './docker-stream.ts';
import { agentHelloTimeoutMs, execCommand, type ExecOptions, type SandboxExecResult } from './exec.ts';
import {
  archiveWorkspace,
  listSandboxFolder,
  readSandboxFile,
  restoreWorkspace,
  writeSandboxFile,
  type ArchiveEntry,
} from './files.ts';
import { daemonMessageOf as messageOf, statusOf } from './docker-errors.ts';
import type { EgressHooks } from './egress/gateway.ts';
import type { SnapshotStore } from './snapshot-store.ts';

export interface DockerSandboxOptions {
  /** Where snapshots go; snapshot/restore/destroy-with-snapshots need it. */
  snapshots?: SnapshotStore;
  /** Added to every container and volume (tests label their run with it). */
  extraLabels?: Record<string, string>;
  /** Size cap of the /tmp tmpfs, in MiB (its pages also count against the memory limit). */
  tmpSizeMb?: number;
  /** Largest workspace snapshot accepted, in bytes. */
  maxSnapshotBytes?: number;
  /** Largest file readFile returns, in bytes. */
  maxFileBytes?: number;
  /** Sets up `egress` containers (activities/sandbox/egress/gateway.ts); without it they cannot be created. */
  egress?: EgressHooks;
  /**
   * Host folder under which each container gets its exec agent's folder (agent-host.ts); null runs every command
   * through docker exec (a Docker engine on another machine, which cannot bind-mount this host's folders).
   */
  agentRoot?: string | null;
  /** Host folders every sandbox of this host sees read-only (the Claude Code runtime: claude-harness/runtime.ts). */
  runtimeMounts?: Docker.MountSettings[];
}

/** The container is gone (removed, killed, its host lost): the session must recreate it. */
export class SandboxGoneError extends PlatformError {
  override name = 'SandboxGoneError';

  constructor(message: string) {
    super(ErrorCode.sandboxGone, message);
  }
}

export type SandboxExecOptions = Omit<ExecOptions, 'env'> & { env?: Record<string, string> };

export class DockerSandbox {
  private readonly extraLabels: Record<string, string>;
  private readonly tmpSizeMb: number;
  private readonly maxSnapshotBytes: number;
  readonly maxFileBytes: number;
  readonly docker: Docker;
  private readonly options: DockerSandboxOptions;
  private readonly agents: AgentHost | undefined;

  constructor(docker: Docker, options: DockerSandboxOptions = {}) {
    this.docker = docker;
    this.options = options;
    this.agents = options.agentRoot === null ? undefined : agentHostFor(docker, options.agentRoot);
    this.extraLabels = options.extraLabels ?? {};
    this.tmpSizeMb = options.tmpSizeMb ?? 256;
    this.maxSnapshotBytes = options.maxSnapshotBytes ?? 512 * mebibyte;
    this.maxFileBytes = options.maxFileBytes ?? 32 * mebibyte;
  }

  /** Creates and starts a container for the owner; returns its id. */
  async create(spec: SandboxSpec, owner?: SandboxOwner, extraLabels: Record<string, string> = {}): Promise<string> {
    const name = owner ? containerNameFor(owner) : `${poolContainerNamePrefix}${randomBytes(4).toString('hex')}`;
    const volumeName = `${name}-workspace`;
    const egress = this.egressSettings(spec, owner);
    const agent = await this.agents?.prepare();
    const labels: Record<string, string> = {
      ...egress?.labels,
      ...agent?.labels,
      ...this.extraLabels,
      ...extraLabels,
      [sandboxLabels.managed]: 'true',
      [sandboxLabels.volume]: volumeName,
      ...(owner ? { [sandboxLabels.tenant]: owner.tenantId, [sandboxLabels.session]: owner.sessionId } : {}),
    };
    try {
      const container = await this.docker.createContainer(
        sandboxContainerOptions({
          name,
          spec,
          labels,
          volumeName,
          tmpSizeMb: this.tmpSizeMb,
          extraMounts: [...(egress?.mounts ?? []), ...(this.options.runtimeMounts ?? [])],
          agent,
        }),
      );
      await container.start();
      if (agent) this.agents?.started(container.id, agent.dir);
      if (egress) await this.options.egress?.attach(container.id);
      return container.id;
    } catch (error) {
      if (agent) await this.agents?.removeDir(agent.dir);
      await this.docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
      await this.docker
        .getVolume(volumeName)
        .remove()
        .catch(() => undefined);
      throw error;
    }
  }

  /** `egress` networking: loopback only (NetworkMode none), the host's proxy reached through a relay (egress/). */
  private egressSettings(spec: SandboxSpec, owner: SandboxOwner | undefined) {
    if (spec.network !== 'egress') return undefined;
    if (!this.options.egress || !owner) {
      throw new Error('an egress sandbox needs the host egress proxy and an owner (warm pools hold none)');
    }
    return this.options.egress.containerSettings(spec, owner);
  }

  /** The exec agent's socket once it listens (waiting for a container just created); undefined without one. */
  async agentSocket(containerId: string): Promise<string | undefined> {
    return this.agents?.socketFor(containerId);
  }

  /** Runs a bash command; see exec.ts for the timeout, the output cap and at-most-once execution. */
  async exec(containerId: string, options: SandboxExecOptions): Promise<SandboxExecResult> {
    const socket = await this.agents?.socketFor(containerId);
    return this.guard(containerId, () => execCommand(this.docker.getContainer(containerId), options, socket));
  }

  /** The recorded result of an at-most-once exec (waiting for it if still running), or undefined if it never ran. */
  async recordedExec(
    containerId: string,
    execId: string,
    options: { waitMs: number; maxOutputBytes: number; onProgress?: () => void },
  ): Promise<SandboxExecResult | undefined> {
    const socket = await this.agents?.socketFor(containerId);
    return this.guard(containerId, () =>
      execCommand(
        this.docker.getContainer(containerId),
        {
          command: '',
          execId,
          peekOnly: true,
          timeoutMs: options.waitMs,
          maxOutputBytes: options.maxOutputBytes,
          onProgress: options.onProgress,
        },
        socket,
      ),
    );
  }

  /** Runs one process directly (no shell wrapper): for the tools' own small helper commands. */
  async runProcess(containerId: string, options: ProcessOptions): Promise<ProcessResult> {
    const asSandboxUser = options.user === undefined || options.user === sandboxUser;
    const socket = asSandboxUser ? await this.agents?.socketFor(containerId) : undefined;
    return this.guard(containerId, async () => {
      if (socket) {
        try {
          return await runThroughAgent(socket, options, agentHelloTimeoutMs);
        } catch (error) {
          if (!(error instanceof AgentUnavailableError)) throw error;
        }
      }
      return runProcess(this.docker.getContainer(containerId), options);
    });
  }

  async readFile(containerId: string, path: string): Promise<Buffer> {
    return this.guard(containerId, () =>
      readSandboxFile(this.docker.getContainer(containerId), path, this.maxFileBytes),
    );
  }

  /** Writes under /workspace or /tmp only (the root filesystem is read-only); other paths fail with a clear error. */
  async writeFile(containerId: string, path: string, data: Buffer, mode?: number): Promise<void> {
    return this.guard(containerId, () => writeSandboxFile(this.docker.getContainer(containerId), path, data, mode));
  }

  async list(containerId: string, path?: string): Promise<ArchiveEntry[]> {
    return this.guard(containerId, () => listSandboxFolder(this.docker.getContainer(containerId), path));
  }

  /** Freezes every process; /workspace and /tmp stay as they are. Pausing a paused container is a no-op. */
  async pause(containerId: string): Promise<void> {
    await this.guard(containerId, async () => {
      const info = await this.docker.getContainer(containerId).inspect();
      if (!info.State.Paused) await this.docker.getContainer(containerId).pause();
    });
  }

  async unpause(containerId: string): Promise<void> {
    await this.guard(containerId, async () => {
      const info = await this.docker.getContainer(containerId).inspect();
      if (info.State.Paused) await this.docker.getContainer(containerId).unpause();
      // Stopped under us (a dockerd restart stops every container): "resumed" would hand the session a dead lease.
      else if (!info.State.Running) {
        throw new SandboxGoneError(
          `container ${containerId} is ${info.State.Status} (exit code ${info.State.ExitCode})`,
        );
      }
    });
  }

  /** The container's owner, from its labels. */
  async owner(containerId: string): Promise<SandboxOwner | undefined> {
    const info = await this.guard(containerId, () => this.docker.getContainer(containerId).inspect());
    return ownerOf(info.Config.Labels ?? {}, [info.Name]);
  }

  /** Stores a tar of /workspace in the snapshot store and returns its id. Works on a paused or stopped container too. */
  async snapshot(containerId: string): Promise<string> {
    const store = this.requireSnapshots();
    const owner = await this.owner(containerId);
    if (!owner) throw new Error(`container ${containerId} belongs to no session; nothing to snapshot for`);
    // Not guard(): a stopped container (a dockerd restart stops them all) still has its /workspace volume, which the
    // archive API reads, and that last state is what the session's next sandbox must start from.
    let data: Buffer;
    try {
      data = await archiveWorkspace(this.docker.getContainer(containerId), this.maxSnapshotBytes);
    } catch (error) {
      if (statusOf(error) === 404 && /no such container/i.test(messageOf(error))) {
        throw new SandboxGoneError(`container ${containerId} no longer exists`);
      }
      throw error;
    }
    return store.save(owner, data);
  }

  /** A new container whose /workspace is the snapshot's, byte for byte (contents, modes, owners, folders). */
  async restore(spec: SandboxSpec, owner: SandboxOwner, snapshotId: string): Promise<string> {
    const data = await this.requireSnapshots().load(snapshotId, owner);
    if (!data) throw new Error(`snapshot ${snapshotId} not found for tenant ${owner.tenantId}`);
    const containerId = await this.create(spec, owner);
    try {
      await restoreWorkspace(this.docker.getContainer(containerId), data);
      return containerId;
    } catch (error) {
      await this.destroy(containerId);
      throw error;
    }
  }

  /** Removes the container and its /workspace volume; with deleteSnapshots, the session's snapshots too. Idempotent. */
  async destroy(containerId: string, options: { deleteSnapshots?: boolean } = {}): Promise<void> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(containerId).inspect();
    } catch (error) {
      if (statusOf(error) === 404) return;
      throw error;
    }
    await this.removeContainer(info.Id, info.Config.Labels ?? {});
    const owner = ownerOf(info.Config.Labels ?? {}, [info.Name]);
    if (options.deleteSnapshots && owner) await this.requireSnapshots().deleteForSession(owner);
  }

  /** Removes every container (and volume) on this host labelled with the owner's session. */
  async destroyOwned(owner: SandboxOwner): Promise<number> {
    const containers = (await this.listManaged([])).filter((info) => {
      const found = ownerOf(info.Labels, info.Names);
      return found?.tenantId === owner.tenantId && found.sessionId === owner.sessionId;
    });
    await Promise.all(containers.map((info) => this.removeContainer(info.Id, info.Labels)));
    await this.removeDanglingVolumes(() => true, [`${sandboxLabels.session}=${owner.sessionId}`]);
    return containers.length;
  }

  /** The reaper: removes the containers whose session the predicate says is gone. Returns the removed ids. */
  async removeContainersWhere(isGone: (sessionId: string) => boolean | Promise<boolean>): Promise<string[]> {
    const containers = await this.listManaged([]);
    const removed: string[] = [];
    for (const info of containers) {
      const sessionId = ownerOf(info.Labels, info.Names)?.sessionId;
      if (sessionId && (await isGone(sessionId))) {
        await this.removeContainer(info.Id, info.Labels);
        removed.push(info.Id);
      }
    }
    // Volumes whose container was removed by other means (docker rm, a crash between the two removals).
    await this.removeDanglingVolumes(isGone, [sandboxLabels.session]);
    // Exec-agent folders likewise (an hour old at least: see sweepOrphans).
    await this.agents?.sweepOrphans(60 * 60_000);
    return removed;
  }

  private async removeDanglingVolumes(
    isGone: (sessionId: string) => boolean | Promise<boolean>,
    labelFilters: string[],
  ): Promise<void> {
    const extra = Object.entries(this.extraLabels).map(([key, value]) => `${key}=${value}`);
    const { Volumes: volumes } = await this.docker.listVolumes({
      filters: { dangling: ['true'], label: [`${sandboxLabels.managed}=true`, ...extra, ...labelFilters] },
    });
    for (const volume of volumes ?? []) {
      const sessionId = volume.Labels?.[sandboxLabels.session];
      if (!sessionId || !(await isGone(sessionId))) continue;
      await this.docker
        .getVolume(volume.Name)
        .remove()
        .catch((error: unknown) => {
          if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
        });
    }
  }

  /** Managed containers carrying this provider's extra labels and the given label filters. */
  async listManaged(labelFilters: string[]): Promise<Docker.ContainerInfo[]> {
    const extra = Object.entries(this.extraLabels).map(([key, value]) => `${key}=${value}`);
    return this.docker.listContainers({
      all: true,
      filters: { label: [`${sandboxLabels.managed}=true`, ...extra, ...labelFilters] },
    });
  }

  private async removeContainer(containerId: string, labels: Record<string, string>): Promise<void> {
    await this.options.egress?.detach(containerId);
    await this.docker
      .getContainer(containerId)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
    await this.agents?.remove(containerId, labels);
    const volume = labels[sandboxLabels.volume];
    if (volume) {
      await this.docker
        .getVolume(volume)
        .remove()
        .catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
    }
  }

  private requireSnapshots(): SnapshotStore {
    if (!this.options.snapshots) throw new Error('DockerSandbox was created without a snapshot store');
    return this.options.snapshots;
  }

  /**
   * Runs a Docker operation, turning "no such container" and "not running" into SandboxGoneError. A paused container
   * is unpaused and the operation tried once more: a tool call is a clear sign the session is active again.
   */
  async guard<T>(containerId: string, operation: () => Promise<T>, unpaused = false): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 && !unpaused && /paused/i.test(messageOf(error))) {
        await this.docker
          .getContainer(containerId)
          .unpause()
          .catch(() => undefined);
        return this.guard(containerId, operation, true);
      }
      if (status === 404 && /no such container/i.test(messageOf(error))) {
        throw new SandboxGoneError(`container ${containerId} no longer exists`);
      }
      if (status === 404 || status === 409 || status === 500) {
        const state = await this.docker
          .getContainer(containerId)
          .inspect()
          .then((info) => info.State)
          .catch((inspectError: unknown) => (statusOf(inspectError) === 404 ? undefined : 'unknown'));
        if (state === undefined) throw new SandboxGoneError(`container ${containerId} no longer exists`);
        if (state !== 'unknown' && !state.Running) {
          throw new SandboxGoneError(`container ${containerId} is ${state.Status} (exit code ${state.ExitCode})`);
        }
      }
      throw error;
    }
  }
}
