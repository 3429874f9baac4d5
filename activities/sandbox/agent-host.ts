// Where each sandbox's exec agent listens: a host folder per container (under the worker's agent root), bind-mounted at
// /run/sandbox-agent, owned by the sandbox user, and named in the container's labels so a restarted worker finds it
// again. Only that container sees the folder, and it holds a Unix socket, not a TCP port: no other sandbox can reach
// the agent. The container's command starts the agent and, should it ever stop (or the image have none), writes
// `stopped` there and sleeps; the worker then uses `docker exec`, as it does for a container created without a folder.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';

/** The default agent root on the worker's host (AGENTS_SANDBOX_AGENT_DIR). */
export const defaultAgentRoot = join(tmpdir(), 'agents-sandbox-agent');
/** Names the container's agent folder on the host. */
export const agentDirLabel = 'io.temporal-agents.agent-dir';
const mountTarget = '/run/sandbox-agent';
const agentPath = '/opt/agents/sandbox-agent';
const socketName = 'agent.sock';
const stoppedName = 'stopped';

/** The container's command: the agent, and `sleep` once it stops (or when the image has none). */
export const agentContainerCommand = [
  '/bin/sh',
  '-c',
  `if [ -x ${agentPath} ]; then ${agentPath} ${mountTarget}; fi; : > ${mountTarget}/${stoppedName}; exec sleep infinity`,
];

/** How long a new container's first request waits for its agent to listen (it starts with the container). */
const readyWaitMs = 2_000;
const readyPollMs = 2;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AgentMount {
  dir: string;
  labels: Record<string, string>;
  mount: Docker.MountSettings;
}

export class AgentHost {
  private readonly root: string;
  private readonly docker: Docker;
  /** containerId → its socket once known to listen, undefined when it has none; a promise while a new one starts. */
  private readonly sockets = new Map<string, Promise<string | undefined>>();

  constructor(docker: Docker, root: string) {
    this.docker = docker;
    this.root = root;
  }

  /** A fresh folder for a container about to be created: its mount and label. */
  async prepare(): Promise<AgentMount> {
    const dir = join(this.root, randomBytes(8).toString('hex'));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // The agent runs as the sandbox user and must create its socket here.
    await chown(dir, 1000, 1000).catch(() => chmod(dir, 0o777));
    return {
      dir,
      labels: { [agentDirLabel]: dir },
      mount: { Type: 'bind', Source: dir, Target: mountTarget },
    };
  }

  /** The container just started with this folder: its first request waits (briefly) for the agent to listen. */
  started(containerId: string, dir: string): void {
    const waiting: Promise<string | undefined> = waitForAgent(dir).then((socket) => {
      // Not up in time (a starved host): look again at the next request rather than give up on it for good.
      if (socket === undefined && this.sockets.get(containerId) === waiting) this.sockets.delete(containerId);
      return socket;
    });
    this.sockets.set(containerId, waiting);
  }

  /** The agent's socket, or undefined when the container has no agent listening (use docker exec). */
  socketFor(containerId: string): Promise<string | undefined> {
    let known = this.sockets.get(containerId);
    if (!known) {
      known = this.lookUp(containerId);
      this.sockets.set(containerId, known);
    }
    return known;
  }

  /** A container created by an earlier worker process: its label names the folder; no waiting. */
  private async lookUp(containerId: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      const dir = info.Config.Labels?.[agentDirLabel];
      if (!dir || (await exists(join(dir, stoppedName)))) return undefined;
      return (await exists(join(dir, socketName))) ? join(dir, socketName) : undefined;
    } catch {
      this.sockets.delete(containerId);
      return undefined;
    }
  }

  /** Removes a removed container's folder (named by its label). */
  async remove(containerId: string, labels: Record<string, string>): Promise<void> {
    this.sockets.delete(containerId);
    const dir = labels[agentDirLabel];
    if (dir?.startsWith(`${this.root}/`)) await rm(dir, { recursive: true, force: true });
  }

  async removeDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }
}

const hosts = new WeakMap<Docker, Map<string, AgentHost>>();

/** One AgentHost per Docker client and root, so every DockerSandbox of a worker shares what it knows of the agents. */
export function agentHostFor(docker: Docker, root = defaultAgentRoot): AgentHost {
  let byRoot = hosts.get(docker);
  if (!byRoot) hosts.set(docker, (byRoot = new Map<string, AgentHost>()));
  let host = byRoot.get(root);
  if (!host) byRoot.set(root, (host = new AgentHost(docker, root)));
  return host;
}

async function waitForAgent(dir: string): Promise<string | undefined> {
  const socket = join(dir, socketName);
  const giveUp = performance.now() + readyWaitMs;
  while (performance.now() < giveUp) {
    if (await exists(socket)) return socket;
    if (await exists(join(dir, stoppedName))) return undefined;
    await sleep(readyPollMs);
  }
  return undefined;
}
