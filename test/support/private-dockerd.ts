// A second, private Docker engine for tests that stop or restart the engine itself: other test files run in parallel
// against the machine's main dockerd, which must never go down. Its own socket, data-root, exec-root and pidfile
// under one temp folder; its own containerd (dockerd supervises one, which dies with it); no bridge, no iptables
// (sandboxes use NetworkMode none). Cleanup leaves nothing behind: containers, container processes, containerd shims,
// mounts, the folder — also when the test failed halfway, and (best effort, synchronously) when the process exits.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';

export type StorageDriver = 'overlay2' | 'vfs';

export class PrivateDockerd {
  readonly dir: string;
  readonly socketPath: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logFile: string;
  /** A client of this daemon (never the main one). */
  readonly docker: Docker;
  storageDriver: StorageDriver;
  private daemon: ManagedProcess | undefined;
  private readonly exitHook = () => this.cleanupSync();

  private constructor(label: string, storageDriver: StorageDriver) {
    this.dir = mkdtempSync(join(tmpdir(), `agents-dockerd-${label}-`));
    this.socketPath = join(this.dir, 'docker.sock');
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.logFile = join(this.dir, 'dockerd.log');
    this.storageDriver = storageDriver;
    this.docker = new Docker({ socketPath: this.socketPath });
    // No /etc/docker/daemon.json settings (hosts, data-root) may leak into this daemon.
    writeFileSync(join(this.dir, 'daemon.json'), '{}\n');
    process.once('exit', this.exitHook);
  }

  /** DOCKER_HOST for processes that should use this daemon. */
  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  get running(): boolean {
    const child = this.daemon?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /**
   * Starts a private daemon. overlay2 when the folder's filesystem supports it (ext4 and the like; not overlayfs or
   * tmpfs), else vfs (slow, but works anywhere).
   */
  static async start(label: string, storageDriver?: StorageDriver): Promise<PrivateDockerd> {
    const dockerd = new PrivateDockerd(label, storageDriver ?? 'overlay2');
    try {
      await dockerd.start();
    } catch (error) {
      if (storageDriver !== undefined) {
        await dockerd.cleanup();
        throw error;
      }
      await dockerd.stop('SIGKILL');
      dockerd.storageDriver = 'vfs';
      await dockerd.start();
    }
    return dockerd;
  }

  /** Starts (or restarts) the daemon on the same data-root; resolves once it answers. */
  async start(): Promise<void> {
    if (this.running) return;
    this.daemon = startProcess(
      'private-dockerd',
      // Its own network namespace: a daemon started with --bridge=none deletes the host's `docker0` interface (the
      // main daemon's bridge) at start-up; in a namespace of its own it can only touch its own. unshare execs dockerd,
      // so the pid is the daemon's.
      'unshare',
      [
        '--net',
        '--',
        'dockerd',
        `--host=${this.dockerHost}`,
        `--data-root=${this.dataRoot}`,
        `--exec-root=${this.execRoot}`,
        `--pidfile=${join(this.dir, 'docker.pid')}`,
        `--config-file=${join(this.dir, 'daemon.json')}`,
        `--storage-driver=${this.storageDriver}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
      ],
      { logFile: this.logFile },
    );
    try {
      await waitUntil('private dockerd', () => this.docker.ping().then(() => true), {
        process: this.daemon,
        timeoutMs: 60_000,
      });
    } catch (error) {
      // The log goes with the folder at cleanup: keep its tail in the error.
      const tail = readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail}`, { cause: error });
    }
  }

  /**
   * Stops the daemon: SIGKILL (a crash: its containerd dies with it, the shims stay and the next start stops the
   * containers) or SIGTERM (a clean shutdown: containers are stopped first).
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const daemon = this.daemon;
    if (!daemon) return;
    const containerdPidFile = join(this.execRoot, 'containerd', 'containerd.pid');
    const containerdPid = existsSync(containerdPidFile) ? Number(readFileSync(containerdPidFile, 'utf8')) : undefined;
    await daemon.stop(signal, 60_000);
    // The supervised containerd dies with dockerd (parent-death signal), but not at once. A restart that still finds it
    // alive through its pidfile connects to it instead of starting a new one, and gives up when it never answers: so
    // make sure it is gone and forget its pidfile.
    if (containerdPid && this.processesMatching('containerd.toml').includes(containerdPid)) killQuietly(containerdPid);
    for (let i = 0; i < 100 && containerdPid && isAlive(containerdPid); i++) await sleep(100);
    rmSync(containerdPidFile, { force: true });
  }

  /** Loads an image from the main daemon's image cache: the `docker save` tarball setup.sh keeps, else a live export. */
  async loadImage(image: string, mainDocker = new Docker()): Promise<void> {
    const tarball = cachedImageTarball(image);
    const source = tarball ? createReadStream(tarball) : await mainDocker.getImage(image).get();
    const progress = await this.docker.loadImage(source);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())),
    );
    await this.docker.getImage(image).inspect();
  }

  /** Stops everything this daemon started and removes its folder. Safe to call more than once. */
  async cleanup(): Promise<void> {
    if (!existsSync(this.dir)) return;
    // Containers are best removed by the daemon itself: bring it back if a test left it down.
    if (!this.running) await this.start().catch(() => undefined);
    if (this.running) {
      const containers = await this.docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(
        containers.map((info) =>
          this.docker
            .getContainer(info.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      await this.stop('SIGTERM').catch(() => undefined);
    }
    this.cleanupSync();
  }

  /** Kills whatever is left (container processes, shims, containerd, dockerd), unmounts, removes the folder. */
  private cleanupSync(): void {
    if (!existsSync(this.dir)) return;
    process.removeListener('exit', this.exitHook);
    for (const pid of this.containerProcesses()) killQuietly(pid);
    for (const pid of this.processesMatching(this.dir)) killQuietly(pid);
    // Deepest first: overlay merges and shm inside the data-root's own bind mount, netns files in the exec-root.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((mountPoint) => mountPoint === this.dir || mountPoint.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const mountPoint of mounts) {
      try {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
      } catch {
        // Already gone with its parent.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Pids of processes whose command line mentions `needle` (only this daemon's paths are ever passed). */
  private processesMatching(needle: string): number[] {
    const matching: number[] = [];
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      let commandLine: string;
      try {
        commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      if (commandLine.includes(this.dir) && commandLine.includes(needle)) matching.push(pid);
    }
    return matching;
  }

  /** Processes inside this daemon's containers, found through their cgroups (cgroupfs, v1 or v2). */
  private containerProcesses(): number[] {
    const containersDir = join(this.dataRoot, 'containers');
    const ids = existsSync(containersDir) ? readdirSync(containersDir) : [];
    const roots = existsSync('/sys/fs/cgroup/pids')
      ? ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct']
      : ['/sys/fs/cgroup'];
    const pids = new Set<number>();
    for (const id of ids) {
      for (const root of roots) {
        try {
          for (const line of readFileSync(join(root, 'docker', id, 'cgroup.procs'), 'utf8').split('\n')) {
            if (line.trim()) pids.add(Number(line));
          }
        } catch {
          // No such cgroup: the container is not running.
        }
      }
    }
    return [...pids];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** setup.sh's `docker save` of the sandbox image: <cache>/sandbox-image-<tag>.tar (scripts/setup/sandbox-image.sh). */
function cachedImageTarball(image: string): string | undefined {
  const tag = image.split(':')[1];
  if (!tag) return undefined;
  const cacheDir =
    process.env.AGENTS_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'temporal-agents');
  const tarball = join(cacheDir, `sandbox-image-${tag}.tar`);
  return existsSync(tarball) ? tarball : undefined;
}
