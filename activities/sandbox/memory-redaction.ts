// Redaction reaching running sandboxes. A store is written into a sandbox at create/restore, so a version redacted
// later (once the memory moved on through the API or another session) may still sit in /mnt/memory of the sandboxes
// that mounted it. For each mounted file whose base version is now redacted: if the file still holds that content
// (same sha256), it is replaced by the memory's current content when the memory is still at that path, else removed;
// its mount base follows, so the next sync sees no change of the agent's. A file the agent changed since the mount is
// the agent's and stays (the sync records it as a version). The sandbox host runs this for its containers on every
// redaction (NOTIFY memory_redactions, heard by RedactedMemorySweeper) and once when it starts listening, which also
// covers a redaction made while the host was down or its LISTEN connection lost.
import type Docker from 'dockerode';
import type pg from 'pg';
import { getMemory } from '../../db/repositories/memories.ts';
import {
  advanceMountBase,
  dropMountBase,
  memoryRedactionsChannel,
  redactedMountBases,
} from '../../db/repositories/session-memory-mounts.ts';
import type { SandboxOwner } from '../../domain/sandbox.ts';
import { ownerOf } from './container-spec.ts';
import type { DockerSandbox } from './docker-sandbox.ts';
import { runProcess } from './docker-stream.ts';

const rootUser = '0:0';

/** Takes redacted memory content out of one running container; returns how many files it replaced or removed. */
export async function scrubRedactedMemory(
  pool: pg.Pool,
  container: Docker.Container,
  owner: SandboxOwner,
): Promise<number> {
  let scrubbed = 0;
  for (const base of await redactedMountBases(pool, owner.sessionId)) {
    const file = `${base.mountPath}${base.path}`;
    if ((await fileSha256(container, file)) !== base.contentSha256) continue;
    const current = await getMemory(pool, base.memoryStoreId, base.memoryId);
    if (current && current.path === base.path) {
      await rootScript(container, replaceScript, file, Buffer.from(current.content, 'utf8'));
      await advanceMountBase(pool, owner, base.memoryStoreId, current);
    } else {
      await rootScript(container, removeScript, file);
      await dropMountBase(pool, owner.sessionId, base.memoryStoreId, base.path);
    }
    scrubbed++;
  }
  return scrubbed;
}

// Root in the sandbox has no CAP_DAC_OVERRIDE: it lends itself write permission on what it owns (read_only stores are
// a=rX), writes in place (the tmpfs pages of the old content are freed), and puts the modes back.
const replaceScript = 'm=$(stat -c %a -- "$1") && chmod u+w -- "$1" && cat > "$1" && chmod "$m" -- "$1"';
const removeScript =
  'd=$(dirname -- "$1") && m=$(stat -c %a -- "$d") && chmod u+w -- "$d" && rm -f -- "$1"; chmod "$m" -- "$d"';

async function fileSha256(container: Docker.Container, file: string): Promise<string | undefined> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -f "$1" ] && [ ! -L "$1" ] && sha256sum -- "$1" || true', 'hash', file],
    user: rootUser,
    maxBytes: 4096,
  });
  const hash = result.stdout.toString('utf8').split(' ')[0]?.trim();
  return hash ? hash : undefined;
}

async function rootScript(container: Docker.Container, script: string, file: string, stdin?: Buffer): Promise<void> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', script, 'scrub', file],
    user: rootUser,
    maxBytes: 4096,
    ...(stdin ? { stdin } : {}),
  });
  if (result.exitCode !== 0) throw new Error(`scrubbing ${file}: ${result.stderr.toString('utf8').trim()}`);
}

export interface RedactedMemorySweeperDeps {
  pool: pg.Pool;
  docker: Docker;
  /** This host's sandboxes (its host label among the extra labels). */
  sandbox: DockerSandbox;
  onError: (error: unknown) => void;
  onScrubbed?: (details: { containerId: string; sessionId: string; files: number }) => void;
}

/** Listens for redactions and scrubs this host's running and paused sandboxes (a paused one is paused again). */
export class RedactedMemorySweeper {
  private readonly deps: RedactedMemorySweeperDeps;
  private client: pg.PoolClient | undefined;
  private stopped = false;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(deps: RedactedMemorySweeperDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    await this.listen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.removeAllListeners();
    this.client?.release(true);
    this.client = undefined;
    await this.sweeping;
  }

  /** Sweeps now, or once more after the sweep in progress (a redaction during a sweep is never missed). */
  sweep(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        await this.sweepOnce().catch(this.deps.onError);
      } while (this.sweepAgain && !this.stopped);
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await this.deps.pool.connect();
      client.on('notification', () => void this.sweep());
      client.on('error', (error) => this.lost(client, error));
      await client.query(`listen ${memoryRedactionsChannel}`);
      this.client = client;
    } catch (error) {
      this.deps.onError(error);
      this.retryTimer = setTimeout(() => void this.listen(), 2_000);
      return;
    }
    await this.sweep();
  }

  private lost(client: pg.PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.deps.onError(error);
    this.client = undefined;
    client.release(true);
    this.retryTimer = setTimeout(() => void this.listen(), 500);
  }

  private async sweepOnce(): Promise<void> {
    for (const info of await this.deps.sandbox.listManaged([])) {
      const owner = ownerOf(info.Labels ?? {}, info.Names ?? []);
      if (!owner || (info.State !== 'running' && info.State !== 'paused')) continue;
      try {
        const files = await this.scrubContainer(info.Id, owner, info.State === 'paused');
        if (files > 0) this.deps.onScrubbed?.({ containerId: info.Id, sessionId: owner.sessionId, files });
      } catch (error) {
        this.deps.onError(error);
      }
    }
  }

  private async scrubContainer(containerId: string, owner: SandboxOwner, paused: boolean): Promise<number> {
    if ((await redactedMountBases(this.deps.pool, owner.sessionId)).length === 0) return 0;
    const container = this.deps.docker.getContainer(containerId);
    if (paused) await container.unpause();
    try {
      return await scrubRedactedMemory(this.deps.pool, container, owner);
    } finally {
      if (paused) await container.pause();
    }
  }
}
