// Where each sandbox's exec agent listens: a host folder per container (under the worker's agent root), bind-mounted at
// /run/sandbox-agent, owned by the sandbox user, and named in the container's labels so a restarted worker finds it
// again. Only that container sees the folder, and it holds a Unix socket, not a TCP port: no other sandbox can reach
// the agent. The container's command starts the agent and, should it ever stop (or the image have none), writes
// `stopped` there and sleeps; the worker then uses `docker exec`, as it does for a container created without a folder.
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
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

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

export interface AgentMount {
  dir: string;
  labels: Record<string, string>;
  mount: Docker.MountSettings;
}

export class AgentHost {
  private readonly root: string;
  private readonly docker: Docker;
  /** containerId → its agent folder (undefined: created without one). */
  private readonly dirs = new Map<string, Promise<string | undefined>>();
  /** Containers just started by this process, until their agent listens (or stopped, or the wait ran out). */
  private readonly starting = new Map<string, Promise<unknown>>();
  private rootReady: Promise<void> | undefined;

  constructor(docker: Docker, root: string) {
    this.docker = docker;
    this.root = root;
  }

  /** A fresh folder for a container about to be created: its mount and label. */
  async prepare(): Promise<AgentMount> {
    // The root is the worker's alone: the folders in it belong to the sandbox uid, which on the host may be some
    // unrelated user, who must not reach the sockets (the bind mount needs no access to the parent).
    this.rootReady ??= privateFolder(this.root);
    await this.rootReady;
    const dir = join(this.root, randomBytes(8).toString('hex'));
    await mkdir(dir, { mode: 0o700 });
    // The agent runs as the sandbox user and must create its socket here.
    await chown(dir, 1000, 1000).catch(() => chmod(dir, 0o777));
    return {
      dir,
      labels: { [agentDirLabel]: dir },
      mount: { Type: 'bind', Source: dir, Target: mountTarget },
    };
  }

  /** The container just started with this folder: requests wait (briefly) for its agent to listen. */
  started(containerId: string, dir: string): void {
    this.dirs.set(containerId, Promise.resolve(dir));
    this.starting.set(
      containerId,
      waitForAgent(dir).finally(() => this.starting.delete(containerId)),
    );
  }

  /** The agent's socket, or undefined when the container has no agent listening (use docker exec). */
  async socketFor(containerId: string): Promise<string | undefined> {
    await this.starting.get(containerId);
    let known = this.dirs.get(containerId);
    if (!known) {
      known = this.lookUp(containerId);
      this.dirs.set(containerId, known);
    }
    const dir = await known;
    if (!dir) return undefined;
    const socket = join(dir, socketName);
    return (await exists(socket)) ? socket : undefined;
  }

  /** A container this process did not start (an earlier worker process did): its label names the folder. */
  private async lookUp(containerId: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getContainer(containerId).inspect();
      return info.Config.Labels?.[agentDirLabel];
    } catch {
      this.dirs.delete(containerId);
      return undefined;
    }
  }

  /** Removes a removed container's folder (named by its label). */
  async remove(containerId: string, labels: Record<string, string>): Promise<void> {
    this.dirs.delete(containerId);
    const dir = labels[agentDirLabel];
    if (dir?.startsWith(`${this.root}/`)) await rm(dir, { recursive: true, force: true });
  }

  /**
   * Removes folders no container names any more (containers removed by other means: `docker rm`, a test's cleanup, a
   * worker that died between the two removals). Only folders older than minAgeMs: a younger one may belong to a
   * container another process is creating right now (the folder is made first).
   */
  async sweepOrphans(minAgeMs: number): Promise<number> {
    const inUse = new Set(
      (await this.docker.listContainers({ all: true, filters: { label: [agentDirLabel] } })).map(
        (info) => info.Labels[agentDirLabel],
      ),
    );
    const names = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const dir = join(this.root, name);
      if (inUse.has(dir)) continue;
      const info = await stat(dir).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < minAgeMs) continue;
      await rm(dir, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  async removeDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The root, made if missing; refused when someone else owns it (a folder planted in /tmp). */
async function privateFolder(root: string): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const info = await lstat(root);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) {
    throw new Error(
      `exec agent folder ${root} is not a folder of this process's user; remove it or set AGENTS_SANDBOX_AGENT_DIR`,
    );
  }
  await chmod(root, 0o700);
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

/**
 * Resolves once the agent's socket (or the `stopped` mark) is in its folder, or after readyWaitMs. Watched (inotify),
 * not polled: the first command goes the moment the agent listens, and a starting container costs no stat loop.
 */
function waitForAgent(dir: string): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, readyWaitMs);
    try {
      watcher = watch(dir, (_event, name) => (name === socketName || name === stoppedName) && done());
      watcher.on('error', done);
    } catch {
      return done(); // the folder is gone: socketFor finds no socket and uses docker exec
    }
    // Checked after the watch began, so an agent that was faster than the watcher is not missed.
    void Promise.all([exists(join(dir, socketName)), exists(join(dir, stoppedName))]).then(
      ([socket, stopped]) => (socket || stopped) && done(),
    );
  });
}
