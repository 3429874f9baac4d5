// Files in the sandbox. /workspace is a Docker volume, so the archive API (getArchive/putArchive) reaches it even when
// the container's processes are stuck (a fork bomb cannot stop a read). /tmp is a tmpfs, which the archive API cannot
// see (it reads the container's layers and volumes, not its tmpfs mounts): there we go through exec instead.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { InvalidInputError } from '../../domain/errors.ts';
import { daemonMessageOf, statusOf } from './docker-errors.ts';
import { runProcess } from './docker-stream.ts';

export const workspaceDir = '/workspace';
const reservedDir = '/tmp/.agents';
const sandboxUid = 1000;
const sandboxGid = 1000;

/** Thrown for a path the caller may fix (outside the writable folders, missing, a folder); the message says how. */
export class SandboxPathError extends InvalidInputError {}

/** An absolute, normalised path; relative paths are taken from /workspace. */
export function resolveSandboxPath(path: string): string {
  return posix.normalize(posix.isAbsolute(path) ? path : posix.join(workspaceDir, path));
}

const isUnder = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** The absolute path to write to, or a SandboxPathError worded for the model. */
export function writablePath(path: string): string {
  const absolute = resolveSandboxPath(path);
  if (isUnder(absolute, reservedDir)) throw new SandboxPathError(`${path} is reserved for the sandbox itself.`);
  if (absolute === workspaceDir || absolute === '/tmp') throw new SandboxPathError(`${path} is a folder, not a file.`);
  if (!isUnder(absolute, workspaceDir) && !isUnder(absolute, '/tmp')) {
    throw new SandboxPathError(
      `Cannot write ${path}: the sandbox's root filesystem is read-only. Write under /workspace (the default for ` +
        'relative paths) or /tmp.',
    );
  }
  return absolute;
}

export interface ArchiveEntry {
  /** Relative to the listed folder. */
  path: string;
  type: string;
  mode: number;
  size: number;
  linkname?: string;
}

/** Reads a whole file. Under /workspace through the archive API (symlinks followed), elsewhere through exec. */
export async function readSandboxFile(container: Docker.Container, path: string, maxBytes: number): Promise<Buffer> {
  let absolute = resolveSandboxPath(path);
  if (!isUnder(absolute, workspaceDir)) return readThroughExec(container, absolute, maxBytes);
  for (let hops = 0; hops < 8; hops++) {
    const archive = await getArchiveOrMissing(container, absolute, path);
    let found: { header: tar.Header; data: Buffer } | undefined;
    for await (const entry of archive) {
      if (!found) found = { header: entry.header, data: await collect(entry, maxBytes, path) };
      else entry.resume();
    }
    if (!found) throw new SandboxPathError(`File does not exist: ${path}`);
    if (found.header.type === 'directory') throw new SandboxPathError(`${path} is a folder, not a file.`);
    if (found.header.type !== 'symlink') return found.data;
    absolute = resolveSandboxPath(posix.resolve(posix.dirname(absolute), found.header.linkname ?? ''));
    if (!isUnder(absolute, workspaceDir)) return readThroughExec(container, absolute, maxBytes);
  }
  throw new SandboxPathError(`${path}: too many levels of symbolic links.`);
}

/** Writes a whole file (mode 0644 unless given), creating missing folders. Only /workspace and /tmp are writable. */
export async function writeSandboxFile(
  container: Docker.Container,
  path: string,
  data: Buffer,
  mode = 0o644,
): Promise<void> {
  const absolute = writablePath(path);
  if (!isUnder(absolute, workspaceDir)) {
    const result = await runProcess(container, {
      argv: ['bash', '-c', 'mkdir -p -- "${1%/*}" && cat > "$1"', 'write', absolute],
      stdin: data,
      maxBytes: 4096,
    });
    if (result.exitCode !== 0) throw new SandboxPathError(`Cannot write ${path}: ${result.stderr.toString().trim()}`);
    return;
  }
  const archive = await packEntries([{ header: { name: posix.basename(absolute), mode, type: 'file' }, data }]);
  const parent = posix.dirname(absolute);
  try {
    await container.putArchive(archive, { path: parent });
  } catch (error) {
    if (!isMissingPath(error)) throw error;
    // Only missing folders are created: a folder entry in the archive would reset an existing folder's mode.
    const result = await runProcess(container, { argv: ['mkdir', '-p', '--', parent], maxBytes: 4096 });
    if (result.exitCode !== 0) throw new SandboxPathError(`Cannot write ${path}: ${result.stderr.toString().trim()}`);
    await container.putArchive(archive, { path: parent });
  }
}

/** Lists a folder under /workspace recursively, as the archive API sees it. */
export async function listSandboxFolder(container: Docker.Container, path = workspaceDir): Promise<ArchiveEntry[]> {
  const archive = await getArchiveOrMissing(container, resolveSandboxPath(path), path);
  const entries: ArchiveEntry[] = [];
  for await (const entry of archive) {
    const { header } = entry;
    const slash = header.name.indexOf('/');
    const relative = slash === -1 ? '' : header.name.slice(slash + 1).replace(/\/$/, '');
    if (relative) {
      entries.push({
        path: relative,
        type: header.type ?? 'file',
        mode: (header.mode ?? 0) & 0o7777,
        size: header.size ?? 0,
        ...(header.linkname ? { linkname: header.linkname } : {}),
      });
    }
    entry.resume();
  }
  return entries;
}

/** The tar of /workspace exactly as Docker returns it (entries named `workspace/...`). */
export async function archiveWorkspace(container: Docker.Container, maxBytes: number): Promise<Buffer> {
  const stream = (await container.getArchive({ path: workspaceDir })) as Readable;
  return collect(stream, maxBytes, workspaceDir);
}

/** Unpacks a tar made by archiveWorkspace into /workspace: modes, owners, nested folders and mtimes as recorded. */
export async function restoreWorkspace(container: Docker.Container, workspaceTar: Buffer): Promise<void> {
  const extract = tar.extract();
  const pack = tar.pack();
  const done = (async () => {
    for await (const entry of extract) {
      const { header } = entry;
      const relative = header.name.replace(/^[^/]*\/?/, '');
      if (!relative) {
        entry.resume();
        continue;
      }
      const data = await collect(entry, Number.MAX_SAFE_INTEGER, header.name);
      await new Promise<void>((resolve, reject) =>
        pack.entry({ ...header, name: relative }, data, (error) => (error ? reject(error) : resolve())),
      );
    }
    pack.finalize();
  })();
  extract.end(workspaceTar);
  const [archive] = await Promise.all([
    collect(pack as unknown as AsyncIterable<unknown>, Number.MAX_SAFE_INTEGER, 'snapshot'),
    done,
  ]);
  await container.putArchive(archive, { path: workspaceDir });
}

async function readThroughExec(container: Docker.Container, absolute: string, maxBytes: number): Promise<Buffer> {
  const result = await runProcess(container, {
    argv: ['bash', '-c', '[ -d "$1" ] && { echo "is a folder" >&2; exit 3; }; exec cat -- "$1"', 'read', absolute],
    maxBytes: maxBytes + 1,
  });
  if (result.exitCode === 3) throw new SandboxPathError(`${absolute} is a folder, not a file.`);
  if (result.exitCode !== 0) throw new SandboxPathError(`File does not exist or is unreadable: ${absolute}`);
  if (result.stdoutTruncated) throw new SandboxPathError(`${absolute} is larger than ${maxBytes} bytes.`);
  return result.stdout;
}

async function getArchiveOrMissing(container: Docker.Container, absolute: string, shown: string): Promise<tar.Extract> {
  let stream: Readable;
  try {
    stream = (await container.getArchive({ path: absolute })) as Readable;
  } catch (error) {
    if (isMissingPath(error)) throw new SandboxPathError(`File does not exist: ${shown}`);
    throw error;
  }
  const extract = tar.extract();
  stream.pipe(extract);
  return extract;
}

/** Docker answers 404 both for a missing container and a missing path; only the message tells them apart. */
function isMissingPath(error: unknown): boolean {
  return statusOf(error) === 404 && !/no such container/i.test(daemonMessageOf(error));
}

async function collect(stream: AsyncIterable<unknown>, maxBytes: number, shown: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const piece of stream) {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array);
    size += chunk.length;
    if (size > maxBytes) throw new SandboxPathError(`${shown} is larger than ${maxBytes} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function packEntries(
  entries: { header: Omit<Partial<tar.Header>, 'name'> & { name: string }; data: Buffer }[],
): Promise<Buffer> {
  const pack = tar.pack();
  for (const { header, data } of entries) {
    pack.entry({ uid: sandboxUid, gid: sandboxGid, mtime: new Date(), ...header, size: data.length }, data);
  }
  pack.finalize();
  return collect(pack, Number.MAX_SAFE_INTEGER, 'archive');
}
