// Sandbox contracts shared by the session workflow (which holds the lease) and the sandbox activities (which act on
// Docker). Plain data only.
import type { SandboxEgress } from './egress.ts';

/** The built-in tools that run in the session's container, named as in Anthropic's `agent_toolset_20260401`. */
export const sandboxToolNames = ['bash', 'read', 'write', 'edit', 'glob', 'grep'] as const;
export type SandboxToolName = (typeof sandboxToolNames)[number];
export const isSandboxToolName = (name: string): name is SandboxToolName =>
  (sandboxToolNames as readonly string[]).includes(name);

/** What a container is created from: the environment's image and limits, pinned when the session was created. */
export interface SandboxSpec {
  image: string;
  /** Memory limit in MiB. */
  memoryMb: number;
  /** CPU limit in cores (fractions allowed). */
  cpus: number;
  /** Maximum number of processes in the container. */
  pidsLimit: number;
  /**
   * `none` (default): loopback only. `bridge`: Docker's bridge, unrestricted. `egress`: loopback only, with the host's
   * egress proxy as the one way out (activities/sandbox/egress/), applying `egress.policy`.
   */
  network: 'none' | 'bridge' | 'egress';
  /**
   * Set when the proxy may be needed: `egress` networking, or vaults whose `environment_variable` credentials the proxy
   * substitutes (a `bridge` or `none` sandbox then goes through the proxy too). Absent: no proxy.
   */
  egress?: SandboxEgress;
  /** Non-secret environment variables applied to every exec (never at create, so warm containers can be shared). */
  env: Record<string, string>;
}

export const defaultSandboxSpec = (image: string): SandboxSpec => ({
  image,
  memoryMb: 1024,
  cpus: 1,
  pidsLimit: 256,
  network: 'none',
  env: {},
});

/** Who a container belongs to; written as Docker labels. */
export interface SandboxOwner {
  tenantId: string;
  sessionId: string;
}

/** The session's hold on a container: which host's queue reaches it, which container, and the last snapshot. */
export interface SandboxLease {
  containerId: string;
  /** The per-host task queue of the sandbox worker that holds the container. */
  hostQueue: string;
  state: 'running' | 'paused';
  /** The last snapshot taken of /workspace, if any: restore recreates the container from it. */
  snapshotId?: string;
}

export interface ExecResult {
  exitCode: number;
  /** Combined stdout and stderr, capped; a marker says when output was truncated. */
  output: string;
  truncated: boolean;
  timedOut: boolean;
}

/** The result of a sandbox tool as the model will see it. */
export interface ToolOutcome {
  content: string;
  isError: boolean;
}

/** Docker labels on every sandbox container and volume; tests and the dev stack clean up by them. */
export const managedLabel = 'io.temporal-agents.managed';
/** The sandbox worker (Docker host id) that created a container. */
export const hostLabel = 'io.temporal-agents.host';
