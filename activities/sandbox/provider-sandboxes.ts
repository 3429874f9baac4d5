// Provider mode's containers: one hardened sandbox per session of the served environment, with the project's egress
// proxy and workspace snapshots. A work item is a container's whole life on this host: the first tool call of an item
// restores the session's last snapshot (or starts empty), the item's end snapshots /workspace into PostgreSQL and
// removes the container, so another provider host with the same database picks the session up where it was, and
// nothing is left running between items. A container left by a provider that died is reused by the item's
// re-delivery on this host (its at-most-once exec records are inside), and swept once its session has no open work
// item — removed without a snapshot, since another host may have served the session since (the workspace goes back
// to the last item that ended, as when a host is lost).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type Docker from 'dockerode';
import type { SandboxOwner, SandboxSpec } from '../../domain/sandbox.ts';
import { DockerSandbox } from './docker-sandbox.ts';
import { sandboxLabels } from './container-spec.ts';
import { planEgress, type EgressGateway } from './egress/gateway.ts';
import type { SnapshotStore } from './snapshot-store.ts';

export interface ProviderSandboxOptions {
  /** The image and limits of every session's container; `egress` networking applies the provider's allow-list. */
  spec: SandboxSpec;
  /** The provider's own PostgreSQL: the sessions' workspaces between work items. */
  snapshots: SnapshotStore;
  /** The host's egress proxy; needed when the spec's networking is `egress`. */
  egress?: EgressGateway;
  /** The control plane's environment: snapshots are kept per (environment, session). */
  environmentId: string;
  /** Labels added to every container (tests mark their run with them; they also scope the sweep). */
  extraLabels?: Record<string, string>;
}

/** Why an item's container goes: the item ended (keep the workspace), or the session did (drop it). */
export type ReleaseReason = 'item_ended' | 'session_ended';

export class ProviderSandboxes {
  readonly sandbox: DockerSandbox;
  readonly egress: EgressGateway | undefined;
  private readonly docker: Docker;
  private readonly options: ProviderSandboxOptions;
  /** Sessions whose item this process serves now: the sweep leaves their containers alone. */
  private readonly serving = new Map<string, number>();

  constructor(docker: Docker, options: ProviderSandboxOptions) {
    this.docker = docker;
    this.options = options;
    this.egress = options.egress;
    this.sandbox = new DockerSandbox(docker, {
      extraLabels: options.extraLabels,
      snapshots: options.snapshots,
      egress: options.egress,
    });
  }

  /** Who owns a session's containers and snapshots here: the environment stands in for the tenant. */
  ownerOf(sessionId: string): SandboxOwner {
    return { tenantId: `provider:${this.options.environmentId}`, sessionId };
  }

  /** Marks the session served by this process until release (the sweep skips it). */
  serve(sessionId: string): void {
    this.serving.set(sessionId, (this.serving.get(sessionId) ?? 0) + 1);
  }

  /** The session's container: the one on this host (a dead provider's, resumed), its last snapshot, or a new one. */
  async containerFor(sessionId: string): Promise<string> {
    const owner = this.ownerOf(sessionId);
    const [existing] = await this.containersOf(sessionId);
    if (existing && (existing.State === 'running' || existing.State === 'paused')) {
      if (existing.State === 'paused') await this.sandbox.unpause(existing.Id);
      await this.egress?.ensure(existing.Id);
      return existing.Id;
    }
    if (existing) await this.sandbox.destroy(existing.Id); // stopped: its workspace went into a snapshot, or is lost
    const { spec } = await planEgress(this.egress, this.options.spec, owner);
    const [latest] = await this.options.snapshots.idsForSession(owner);
    return latest ? this.sandbox.restore(spec, owner, latest) : this.sandbox.create(spec, owner);
  }

  /**
   * Copies the skills the runner set up in its own workdir (`skills/<name>/…`, see the SDK's setupSkills) into the
   * container's /workspace/skills, where the session's model was told they are (relative to the working directory).
   */
  async installSkills(containerId: string, skillsDir: string): Promise<void> {
    const entries = await readdir(skillsDir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      await this.sandbox.writeFile(containerId, `/workspace/skills/${relative(skillsDir, path)}`, await readFile(path));
    }
  }

  /** The item is over: the workspace is snapshotted (unless the session ended), the container removed. */
  async release(sessionId: string, containerId: string | undefined, reason: ReleaseReason): Promise<void> {
    try {
      if (containerId && reason === 'item_ended') await this.sandbox.snapshot(containerId);
      if (containerId) await this.sandbox.destroy(containerId);
      if (reason === 'session_ended') await this.options.snapshots.deleteForSession(this.ownerOf(sessionId));
    } finally {
      const count = (this.serving.get(sessionId) ?? 1) - 1;
      if (count > 0) this.serving.set(sessionId, count);
      else this.serving.delete(sessionId);
    }
  }

  /**
   * Removes the containers of sessions this process does not serve and the control plane holds no open item for
   * (`hasOpenItem`): what a provider that died left behind. Returns the removed container ids.
   */
  async sweep(hasOpenItem: (sessionId: string) => Promise<boolean>): Promise<string[]> {
    const removed: string[] = [];
    for (const info of await this.containersOf()) {
      const sessionId = info.Labels[sandboxLabels.session];
      if (!sessionId || this.serving.has(sessionId) || (await hasOpenItem(sessionId))) continue;
      await this.sandbox.destroy(info.Id);
      removed.push(info.Id);
    }
    return removed;
  }

  /** This provider's containers on the host (of one session, or all), by their labels. */
  private async containersOf(sessionId?: string): Promise<Docker.ContainerInfo[]> {
    const tenant = `${sandboxLabels.tenant}=${this.ownerOf('').tenantId}`;
    return this.sandbox.listManaged(sessionId ? [tenant, `${sandboxLabels.session}=${sessionId}`] : [tenant]);
  }
}
