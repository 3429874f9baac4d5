// The session's hold on its sandbox: created lazily at the first sandboxed tool call, paused and then snapshotted
// and removed while idle, resumed or restored on the next call, recreated from the last snapshot when its container or
// its host is lost.
import { TimeoutType } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { CredentialHostUnreachable } from '../domain/egress.ts';
import { FailureType } from '../domain/errors.ts';
import type { SandboxLease, ToolOutcome } from '../domain/sandbox.ts';
import type { RepositoryFailure } from '../domain/session-resources.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import { pinnedSkills } from '../domain/skills.ts';
import type { SkillMount } from '../domain/contracts/sandbox-activity.ts';
import { sandboxCreationActivities, sandboxHostActivities } from './activity-proxies.ts';
import { handOffPatch, type EventJournal } from './event-journal.ts';
import { patchedFolded } from './folded-patches.ts';
import type { ThreadSandboxRequest } from './thread-messages.ts';
import { serveThreadSandboxRequest, SharedSandboxClient } from './thread-sandbox.ts';
import { placeSandbox } from './region-placement.ts';

/** Repositories the sandbox could not fetch become the API's `repository_*_error` session errors. */
export const repositoryErrorsPatch = 'repository-resource-errors';

export class SandboxLeaseManager {
  private ensuring: Promise<SandboxLease> | undefined;
  /** Set when a tool may have changed /workspace since the last snapshot. */
  private dirty = false;
  /** A thread's side of the session's shared sandbox (undefined on the primary thread). */
  readonly shared: SharedSandboxClient | undefined;
  /** Threads' calls running on this (the primary's) lease: an idle primary neither pauses nor removes it meanwhile. */
  private threadCalls = 0;

  private readonly input: SessionWorkflowInput;
  private readonly journal: EventJournal;
  lease: SandboxLease | undefined;
  lastSnapshotId: string | undefined;
  /** The region this run started in (a session that moves region continues as new in the new one). */
  readonly regionAtStart: string | undefined;

  constructor(
    input: SessionWorkflowInput,
    journal: EventJournal,
    lease: SandboxLease | undefined,
    lastSnapshotId: string | undefined,
  ) {
    this.input = input;
    this.journal = journal;
    this.lease = lease;
    this.lastSnapshotId = lastSnapshotId;
    this.shared = input.thread ? new SharedSandboxClient(input.thread) : undefined;
    this.regionAtStart = input.settings.region;
  }

  get state(): 'none' | 'running' | 'paused' | 'snapshotted' {
    if (this.lease) return this.lease.state;
    return this.lastSnapshotId ? 'snapshotted' : 'none';
  }

  private get owner() {
    return { tenantId: this.input.tenantId, sessionId: this.input.sessionId };
  }

  private host(lease: SandboxLease) {
    return sandboxHostActivities(this.input.settings, lease.hostQueue);
  }

  /** A running container for this session: resumed, restored from the last snapshot, or new. Single-flight. */
  ensure(): Promise<SandboxLease> {
    this.ensuring ??= this.acquire().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  private async acquire(): Promise<SandboxLease> {
    if (this.lease?.state === 'running') return this.lease;
    if (this.lease?.state === 'paused') {
      try {
        await this.host(this.lease).resumeSandbox.executeWithOptions({ summary: 'resume sandbox' }, [
          { lease: this.lease },
        ]);
        this.lease = { ...this.lease, state: 'running' };
        return this.lease;
      } catch (error) {
        if (!isSandboxLost(error)) throw error;
        this.reportLost(error);
      }
    }
    const { unreachableCredentials, repositoryErrors, ...lease } = await this.create();
    // Only sandboxes with egress credentials report these, so histories from before them replay unchanged.
    for (const credential of unreachableCredentials ?? []) this.reportUnreachable(credential);
    this.reportRepositories(repositoryErrors);
    this.lease = lease;
    return this.lease;
  }

  /**
   * Creates the sandbox, or restores it from the last snapshot. A session placed in a region checks its region first;
   * a creation its region's sandbox workers never start (they are gone) is tried again after a new check.
   */
  private async create() {
    const settings = this.input.settings;
    for (let attempt = 1; ; attempt++) {
      // Only sessions in a region wait here: others schedule the creation in the same activation as before.
      if (settings.region !== undefined) await placeSandbox(settings, this.journal, this.lastSnapshotId !== undefined);
      const summary = this.lastSnapshotId ? 'restore sandbox from snapshot' : 'create sandbox';
      try {
        return await sandboxCreationActivities(settings).createSandbox.executeWithOptions({ summary }, [
          {
            spec: this.input.environment.sandbox,
            owner: this.owner,
            snapshotId: this.lastSnapshotId,
            packages: this.input.environment.packages,
            // Only sessions whose agent has skills send them, so earlier histories' inputs are unchanged.
            ...this.skillsToMount(),
          },
        ]);
      } catch (error) {
        if (settings.region === undefined || !isSandboxLost(error) || attempt >= 3) throw error;
      }
    }
  }

  private skillsToMount(): { skills?: SkillMount[] } {
    const skills = pinnedSkills(this.input.agent.skills);
    if (skills.length === 0) return {};
    return { skills: skills.map(({ skill_id, version, name }) => ({ skillId: skill_id, version, name })) };
  }

  /** The API's `credential_host_unreachable_error`: the credential is never substituted on those hosts. */
  private reportUnreachable(credential: CredentialHostUnreachable): void {
    this.journal.emit({
      type: 'session.error',
      error: {
        type: 'credential_host_unreachable_error',
        message:
          `Credential ${credential.credentialId} is scoped to ${credential.hosts.join(', ')}, which this ` +
          "environment's network policy does not allow; its secret is not substituted there.",
        retry_status: { type: 'exhausted' },
        credential_id: credential.credentialId,
        vault_id: credential.vaultId,
      },
    });
  }

  /** Only sessions with repository resources report these, so earlier histories replay unchanged. */
  private reportRepositories(failures: RepositoryFailure[] | undefined): void {
    if (!failures?.length || !patched(repositoryErrorsPatch)) return;
    for (const failure of failures) {
      this.journal.emit({
        type: 'session.error',
        error: {
          type: failure.type,
          message: failure.message,
          // Not retried by itself: the session goes on without the repository; a rotated token
          // (resources.update) tries again before the next sandboxed tool call.
          retry_status: { type: 'exhausted' },
          repository_url: failure.repositoryUrl,
        },
      });
    }
  }

  /** Runs a sandbox tool; a lost container or host is recreated from the last snapshot and the call tried once more. */
  async runTool(toolUseId: string, name: string, input: Record<string, unknown>): Promise<ToolOutcome> {
    if (this.shared && SharedSandboxClient.applies(this.input.thread)) {
      return this.shared.runTool(toolUseId, name, input, workflowInfo().workflowId);
    }
    for (let attempt = 1; ; attempt++) {
      const lease = await this.ensure();
      // The tool-use events not written yet ride with the call (see EventJournal.takeForActivity).
      const unwrittenEvents = patchedFolded(handOffPatch) ? await this.journal.takeForActivityAfterWrite() : undefined;
      try {
        this.dirty = true;
        const { repositoryErrors, ...outcome } = await this.host(lease).runTool.executeWithOptions(
          { summary: toolSummary(name, input) },
          [
            {
              lease,
              toolUseId,
              name,
              input,
              env: this.input.environment.sandbox.env,
              ...(unwrittenEvents ? { unwrittenEvents } : {}),
            },
          ],
        );
        if (unwrittenEvents) this.journal.settleHandOff(true);
        this.reportRepositories(repositoryErrors);
        return outcome;
      } catch (error) {
        if (unwrittenEvents) this.journal.settleHandOff(false);
        if (!isSandboxLost(error) || attempt >= 2) throw error;
        this.reportLost(error);
        if (this.lease?.containerId === lease.containerId) this.lease = undefined;
      }
    }
  }

  /** A thread's sandboxed call (the request signal), run on this session's lease; the outcome goes back to it. */
  async serveThread(request: ThreadSandboxRequest): Promise<void> {
    this.threadCalls++;
    try {
      await serveThreadSandboxRequest(request, (toolUseId, name, input) => this.runTool(toolUseId, name, input));
    } finally {
      this.threadCalls--;
    }
  }

  /** The running sandbox for work done in it outside runTool (an in-sandbox harness): snapshotted after the turn. */
  async claimForHarness(): Promise<SandboxLease> {
    const lease = await this.ensure();
    this.dirty = true;
    return lease;
  }

  /** Forgets a lease whose container was lost, so the next claim recreates it from the last snapshot. */
  forgetLost(lease: SandboxLease): void {
    if (this.lease?.containerId === lease.containerId) this.lease = undefined;
  }

  /** After a turn: keep a snapshot so a lost container can come back with its workspace. */
  async snapshotIfDirty(): Promise<void> {
    if (!this.dirty || this.lease?.state !== 'running') return;
    const lease = this.lease;
    try {
      this.lastSnapshotId = await this.host(lease).snapshotSandbox.executeWithOptions(
        { summary: 'snapshot workspace' },
        [{ lease }],
      );
      this.dirty = false;
    } catch (error) {
      if (!isSandboxLost(error)) throw error;
      this.reportLost(error);
      this.lease = undefined;
    }
  }

  /**
   * Waits until `hasWork`; meanwhile an idle sandbox is paused, then snapshotted and removed — but not while threads'
   * calls run on it (the primary of a session whose threads share its sandbox): then it waits for them and idles anew.
   */
  async idleUntil(hasWork: () => boolean): Promise<void> {
    const { idlePauseMs, idleSnapshotMs } = this.input.settings;
    if (this.state === 'running' && !(await condition(hasWork, idlePauseMs))) {
      if (this.threadCalls > 0) return this.idleAfterThreads(hasWork);
      await this.pause();
    }
    if (this.state === 'paused' && !(await condition(hasWork, Math.max(0, idleSnapshotMs - idlePauseMs)))) {
      if (this.threadCalls > 0 || this.state !== 'paused') return this.idleAfterThreads(hasWork);
      await this.snapshotAndRemove();
    }
    await condition(() => hasWork() || this.threadCalls > 0);
    if (!hasWork()) return this.idleAfterThreads(hasWork);
  }

  private async idleAfterThreads(hasWork: () => boolean): Promise<void> {
    await condition(() => this.threadCalls === 0 || hasWork());
    if (!hasWork()) await this.idleUntil(hasWork);
  }

  async pause(): Promise<void> {
    if (this.lease?.state !== 'running') return;
    const lease = this.lease;
    try {
      await this.host(lease).pauseSandbox.executeWithOptions({ summary: 'pause idle sandbox' }, [{ lease }]);
      this.lease = { ...lease, state: 'paused' };
    } catch (error) {
      if (!isSandboxLost(error)) throw error;
      this.lease = undefined;
    }
  }

  /** Long idle: snapshot /workspace, then remove the container. The next call restores it. */
  async snapshotAndRemove(): Promise<void> {
    if (!this.lease) return;
    const lease = this.lease;
    try {
      this.lastSnapshotId = await this.host(lease).snapshotSandbox.executeWithOptions(
        { summary: 'snapshot idle sandbox' },
        [{ lease }],
      );
      await this.host(lease).destroySandbox.executeWithOptions({ summary: 'remove idle sandbox' }, [
        { lease, owner: this.owner, deleteSnapshots: false },
      ]);
    } catch (error) {
      if (!isSandboxLost(error)) throw error;
    }
    this.lease = undefined;
    this.dirty = false;
  }

  /** Session end: the container and, when deleting, every snapshot. */
  async destroy(deleteSnapshots: boolean): Promise<void> {
    if (!this.lease && !this.lastSnapshotId) return;
    const activities = this.lease ? this.host(this.lease) : sandboxCreationActivities(this.input.settings);
    try {
      await activities.destroySandbox.executeWithOptions({ summary: 'remove sandbox' }, [
        { lease: this.lease, owner: this.owner, deleteSnapshots },
      ]);
    } catch (error) {
      if (!isSandboxLost(error)) throw error;
      // The host is gone; any sandbox worker can still remove the snapshots.
      await sandboxCreationActivities(this.input.settings).destroySandbox({ owner: this.owner, deleteSnapshots });
    }
    this.lease = undefined;
    if (deleteSnapshots) this.lastSnapshotId = undefined;
  }

  private reportLost(error: unknown): void {
    this.journal.emit({
      type: 'session.error',
      error: {
        type: 'sandbox_lost_error',
        message: `The sandbox was lost (${describe(error)}); it is being recreated from the last snapshot.`,
        retry_status: { type: 'retrying' },
      },
    });
    this.lease = undefined;
  }
}

/** A container that is gone, or a host whose worker never picked the task up. */
export function isSandboxLost(error: unknown): boolean {
  if (!(error instanceof ActivityFailure)) return false;
  const cause = error.cause;
  if (cause instanceof ApplicationFailure) return cause.type === FailureType.sandboxGone;
  return cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

function describe(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

function toolSummary(name: string, input: Record<string, unknown>): string {
  const detail = typeof input.command === 'string' ? input.command : typeof input.path === 'string' ? input.path : '';
  const line = `${name}: ${detail}`.split('\n')[0] ?? name;
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
