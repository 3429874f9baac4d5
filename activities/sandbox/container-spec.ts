// The sandbox container's definition: its labels and names (who owns a container, read back from either), and the
// hardened create options — non-root, no capabilities, no new privileges, read-only root filesystem, a /workspace
// volume, size-capped tmpfs mounts, memory/CPU/pids limits, no network unless asked. The one place they are written:
// the sandbox (docker-sandbox.ts), the warm pool and the P3 benchmark all use it.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { memoryMountRoot } from '../../domain/memory.ts';
import { managedLabel, type SandboxOwner, type SandboxSpec } from '../../domain/sandbox.ts';
import { agentContainerCommand, type AgentMount } from './agent-host.ts';
import { sandboxUser } from './docker-stream.ts';
import { workspaceDir } from './files.ts';
import { outputsDir, sessionMountDir } from './session-files.ts';

export const sandboxLabels = {
  managed: managedLabel,
  tenant: 'io.temporal-agents.tenant',
  session: 'io.temporal-agents.session',
  /** Names the /workspace volume, so removal never has to guess it. */
  volume: 'io.temporal-agents.volume',
  /** Set on warm-pool containers, which belong to no session until claimed. */
  pool: 'io.temporal-agents.pool',
} as const;

/** Unclaimed warm-pool containers are named `sandbox-pool.<random>`; a claim renames them for the session. */
export const poolContainerNamePrefix = 'sandbox-pool.';

export const mebibyte = 1024 * 1024;

/**
 * The hardened container definition, the one place it is written (the sandbox, and the P3 benchmark's timed cold
 * create). `tmpSizeMb` caps /tmp; its pages count against the memory limit.
 */
export function sandboxContainerOptions(options: {
  name: string;
  spec: SandboxSpec;
  labels: Record<string, string>;
  volumeName: string;
  tmpSizeMb: number;
  /** The egress trust store (egress/gateway.ts). */
  extraMounts?: Docker.MountSettings[];
  /** The exec agent's folder (agent-host.ts); without it the container only sleeps and every exec is a docker exec. */
  agent?: AgentMount;
}): Docker.ContainerCreateOptions {
  const { spec, agent } = options;
  return {
    name: options.name,
    Image: spec.image,
    Cmd: agent ? agentContainerCommand : ['sleep', 'infinity'],
    User: sandboxUser,
    WorkingDir: workspaceDir,
    Labels: options.labels,
    NetworkDisabled: spec.network === 'none',
    HostConfig: {
      Init: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Memory: spec.memoryMb * mebibyte,
      // Equal to Memory: no swap, so a memory hog meets the OOM killer instead of thrashing the host.
      MemorySwap: spec.memoryMb * mebibyte,
      NanoCpus: Math.round(spec.cpus * 1e9),
      PidsLimit: spec.pidsLimit,
      NetworkMode: spec.network === 'bridge' ? 'bridge' : 'none',
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,size=${options.tmpSizeMb}m,mode=1777`,
        [sessionMountDir]: `rw,nosuid,nodev,size=${options.tmpSizeMb}m,mode=755`,
        // The agent-writable outputs folder inside it (session-files.ts), there from the start: no exec as root at
        // every create to make it.
        [outputsDir]: `rw,nosuid,nodev,size=${options.tmpSizeMb}m,mode=1777`,
        // Memory stores (session-memory.ts): outside /workspace, so no snapshot ever holds memory content.
        [memoryMountRoot]: `rw,nosuid,nodev,size=${options.tmpSizeMb}m,mode=755`,
      },
      Mounts: [
        {
          Type: 'volume',
          Source: options.volumeName,
          Target: workspaceDir,
          // Docker creates the volume with the container (one round trip fewer), labelled as the container is, and
          // fills it from the image's /workspace (its owner, the sandbox user) at the first start, as before.
          VolumeOptions: { NoCopy: false, Labels: options.labels, DriverConfig: { Name: 'local', Options: {} } },
        },
        ...(agent ? [agent.mount] : []),
        ...(options.extraMounts ?? []),
      ],
    },
  };
}

// Docker labels are immutable, so a claimed warm-pool container carries its owner in its name instead:
// `sandbox.<tenantId>.<sessionId>.<random>` (ids never contain dots). Labels win when present.
const sanitizeName = (value: string): string => value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

export const containerNameFor = (owner: SandboxOwner): string =>
  `sandbox.${sanitizeName(owner.tenantId)}.${sanitizeName(owner.sessionId)}.${randomBytes(4).toString('hex')}`;

export function ownerOf(labels: Record<string, string>, names: string[]): SandboxOwner | undefined {
  const tenantId = labels[sandboxLabels.tenant];
  const sessionId = labels[sandboxLabels.session];
  if (tenantId && sessionId) return { tenantId, sessionId };
  for (const name of names) {
    const parts = name.replace(/^\//, '').split('.');
    if (parts.length === 4 && parts[0] === 'sandbox' && parts[1] && parts[2]) {
      return { tenantId: parts[1], sessionId: parts[2] };
    }
  }
  return undefined;
}
