// Pre-started containers for one sandbox spec on this host, kept running: their exec agent waits on its socket, which
// costs no CPU (an unpause would cost the claim a runc call, ~20 ms under load). A claim takes one and renames it to the
// session's name (labels are immutable; the name carries the owner, see ownerOf), checking meanwhile that its agent
// still answers: no image start, no volume creation, no unpause on the session's critical path. Per-session env is
// applied at exec time, never at create.
import type { SandboxOwner, SandboxSpec } from '../../domain/sandbox.ts';
import { agentGreets } from './agent-client.ts';
import { type DockerSandbox } from './docker-sandbox.ts';
import { agentHelloTimeoutMs } from './exec.ts';
import { containerNameFor, poolContainerNamePrefix, sandboxLabels } from './container-spec.ts';

export interface WarmPoolOptions {
  spec: SandboxSpec;
  /** Containers kept ready. */
  min: number;
  /** Never more than this many pooled containers (ready or being created). */
  max: number;
  /** Reports a failed background refill (the pool then tries again at the next claim). */
  onError?: (error: unknown) => void;
}

/**
 * A claim's refill starts this much later: creating and starting a container is Docker's busiest work, and the claiming
 * session's first steps (its first command within milliseconds) should not compete with it.
 */
const refillAfterClaimMs = 250;

export class WarmPool {
  private readonly sandbox: DockerSandbox;
  private readonly options: WarmPoolOptions;
  private readonly ready: string[] = [];
  private creating = 0;
  /** Claims run one at a time: two sessions must never take the same container. */
  private claiming: Promise<unknown> = Promise.resolve();
  private refilling: Promise<void> | undefined;
  private stopped = false;

  constructor(sandbox: DockerSandbox, options: WarmPoolOptions) {
    this.sandbox = sandbox;
    this.options = options;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** True when a container from this pool fits the spec (env is applied per exec, so it does not count). */
  fits(spec: SandboxSpec): boolean {
    const { env: _env, ...wanted } = spec;
    const { env: _poolEnv, ...pooled } = this.options.spec;
    return JSON.stringify(wanted, Object.keys(wanted).sort()) === JSON.stringify(pooled, Object.keys(pooled).sort());
  }

  /** Fills the pool up to min; resolves when the containers are ready. */
  refill(): Promise<void> {
    this.refilling ??= this.fill().finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  private async fill(): Promise<void> {
    while (!this.stopped && this.ready.length + this.creating < this.options.min) {
      if (this.ready.length + this.creating >= this.options.max) return;
      this.creating++;
      try {
        const id = await this.sandbox.create(this.options.spec, undefined, { [sandboxLabels.pool]: 'true' });
        // Ready only once its exec agent listens: a claim then answers its first command at once.
        await this.sandbox.agentSocket(id);
        if (this.stopped) await this.sandbox.destroy(id);
        else this.ready.push(id);
      } finally {
        this.creating--;
      }
    }
  }

  /** A warm container now owned by the session, running; undefined when none is ready (create one cold). */
  claim(owner: SandboxOwner): Promise<string | undefined> {
    const claimed = this.claiming.then(() => this.take(owner));
    this.claiming = claimed.catch(() => undefined);
    return claimed;
  }

  private async take(owner: SandboxOwner): Promise<string | undefined> {
    while (this.ready.length > 0) {
      const id = this.ready.shift();
      if (!id) break;
      try {
        const [, running] = await Promise.all([
          this.sandbox.docker.getContainer(id).rename({ name: containerNameFor(owner) }),
          this.isRunning(id),
        ]);
        // Stopped meanwhile (a dockerd restart stops every container): dropped below, as a removed one is.
        if (!running) throw new Error(`warm container ${id} is not running any more`);
        setTimeout(() => this.refillInBackground(), refillAfterClaimMs).unref();
        return id;
      } catch (error) {
        // A pooled container that was removed or broke meanwhile: drop it and try the next one.
        this.options.onError?.(error);
        await this.sandbox.destroy(id).catch(() => undefined);
      }
    }
    this.refillInBackground();
    return undefined;
  }

  /** Its agent greets (well under a millisecond); without an agent (or a stale socket), Docker is asked. */
  private async isRunning(id: string): Promise<boolean> {
    const socket = await this.sandbox.agentSocket(id);
    if (socket && (await agentGreets(socket, agentHelloTimeoutMs))) return true;
    const info = await this.sandbox.docker.getContainer(id).inspect();
    return info.State.Running && !info.State.Paused;
  }

  private refillInBackground(): void {
    this.refill().catch((error: unknown) => this.options.onError?.(error));
  }

  /** Removes every ready container; claimed ones belong to their sessions now. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.refilling?.catch(() => undefined);
    const ids = this.ready.splice(0);
    await Promise.all(ids.map((id) => this.sandbox.destroy(id)));
  }
}

/**
 * Removes unclaimed pool containers left on this host by an earlier worker process (one that was killed before it
 * could stop its pools). Claimed ones were renamed for their session and are left alone. Call before starting pools.
 */
export async function removeStalePoolContainers(sandbox: DockerSandbox): Promise<number> {
  const stale = (await sandbox.listManaged([`${sandboxLabels.pool}=true`])).filter((info) =>
    info.Names.some((name) => name.replace(/^\//, '').startsWith(poolContainerNamePrefix)),
  );
  await Promise.all(stale.map((info) => sandbox.destroy(info.Id)));
  return stale.length;
}
