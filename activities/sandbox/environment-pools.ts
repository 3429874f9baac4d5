// Warm pools made on demand, for the sandbox specs no configured pool fits: an environment with packages (its own
// image), its own image or limits. A cold create of such a spec leaves a pool of one container behind, so the
// environment's next session (or a resumed one) claims a warm container; when more such pools are wanted than allowed,
// the least recently used one goes (its ready container removed). `egress` sandboxes are never pooled: their proxy
// settings are made for the session at create (see DockerSandbox.egressSettings).
import type { SandboxSpec } from '../../domain/sandbox.ts';
import type { DockerSandbox } from './docker-sandbox.ts';
import { WarmPool } from './warm-pool.ts';

export interface EnvironmentPoolsOptions {
  /** How many on-demand pools (one ready container each) at most; 0 keeps none. */
  max: number;
  /** Reports a failed background refill or removal. */
  onError?: (error: unknown) => void;
}

export class EnvironmentPools {
  private readonly sandbox: DockerSandbox;
  private readonly options: EnvironmentPoolsOptions;
  /** Least recently used first. */
  private readonly pools: WarmPool[] = [];
  private stopped = false;

  constructor(sandbox: DockerSandbox, options: EnvironmentPoolsOptions) {
    this.sandbox = sandbox;
    this.options = options;
  }

  get all(): readonly WarmPool[] {
    return this.pools;
  }

  /** The pool for this spec, if there is one; it becomes the most recently used. */
  find(spec: SandboxSpec): WarmPool | undefined {
    const index = this.pools.findIndex((pool) => pool.fits(spec));
    const [pool] = index < 0 ? [] : this.pools.splice(index, 1);
    if (pool) this.pools.push(pool);
    return pool;
  }

  /** After a cold create of this spec: a container like it is made ready, in the background, for the next session. */
  keepWarm(spec: SandboxSpec): void {
    if (this.stopped || this.options.max === 0 || spec.network === 'egress' || this.find(spec)) return;
    const onError = (error: unknown) => this.options.onError?.(error);
    const pool = new WarmPool(this.sandbox, { spec: { ...spec, env: {} }, min: 1, max: 1, onError });
    this.pools.push(pool);
    while (this.pools.length > this.options.max) this.pools.shift()?.stop().catch(onError);
    pool.refill().catch(onError);
  }

  /** Removes every pool's ready containers (claimed ones belong to their sessions). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.pools.splice(0).map((pool) => pool.stop()));
  }
}
