// Memory stores' rules, as the API defines them: memory paths, content limits, the mount folder a store gets in a
// sandbox, and the memory section of a session's system prompt.
import { ConflictError } from './errors.ts';

/** The largest memory content, in UTF-8 bytes (the API's 100 kB). */
export const maxMemoryContentBytes = 102_400;
/** The longest memory path, in UTF-8 bytes. */
export const maxMemoryPathBytes = 1_024;
const maxPathSegments = 20;

/** Where memory stores are mounted in a sandbox: one folder per store, named by its slug. */
export const memoryMountRoot = '/mnt/memory';

/** A store's folder name: lowercased, each run of characters other than ASCII letters and digits one hyphen. */
export function memoryStoreSlug(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'memory';
}

/** Mount paths for the stores of one session, in order; a repeated slug gets `-2`, `-3`, ... */
export function memoryMountPaths(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const base = memoryStoreSlug(name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
    used.add(slug);
    return `${memoryMountRoot}/${slug}`;
  });
}

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

// Control characters, format characters (Cf) and the line/paragraph separators are not allowed in a path.
const forbiddenInPath = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** Why `path` is not a valid memory path, or undefined when it is. */
export function memoryPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'a memory path starts with "/"';
  if (utf8Length(path) > maxMemoryPathBytes) return `a memory path is at most ${maxMemoryPathBytes} bytes`;
  if (forbiddenInPath.test(path)) return 'a memory path cannot contain control or format characters';
  if (path.normalize('NFC') !== path) return 'a memory path must be in Unicode Normalization Form C';
  const segments = path.slice(1).split('/');
  if (segments.length > maxPathSegments) return `a memory path has at most ${maxPathSegments} segments`;
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return 'a memory path segment cannot be empty, "." or ".."';
  }
  return undefined;
}

/** Why `content` cannot be a memory's content, or undefined when it can. */
export function memoryContentProblem(content: string): string | undefined {
  return utf8Length(content) > maxMemoryContentBytes
    ? `memory content is at most ${maxMemoryContentBytes} bytes`
    : undefined;
}

/** Whether one path is the other's ancestor (`/notes` and `/notes/todo.md`): two memories cannot hold both. */
export const pathsOverlap = (a: string, b: string): boolean => a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * Where a self-hosted runner keeps a store: the SDK's runner (`SessionMemoryStores`) puts a store without a
 * `mount_path` at `memory/<name>` in its working directory, and syncs it through the memory endpoints.
 */
export const runnerMemoryPath = (name: string, storeId: string): string => `memory/${name || storeId}`;

/** A memory store as a session sees it (pinned at attach time). */
export interface MountedMemoryStore {
  name: string;
  description: string;
  access: 'read_write' | 'read_only';
  instructions: string | null;
  mountPath: string;
}

/** The memory section of the system prompt: where each store is, whether it is writable, and what it is for. */
export function memorySystemSection(stores: MountedMemoryStore[]): string | undefined {
  if (stores.length === 0) return undefined;
  const lines = [
    '# Memory',
    'Memory stores are mounted as folders of text files. Read them before you start; write what should be ' +
      'remembered in later sessions as files there (changes are saved at the end of each turn).',
  ];
  for (const store of stores) {
    lines.push(
      '',
      `## ${store.name} (${store.mountPath}, ${store.access === 'read_only' ? 'read-only' : 'read-write'})`,
    );
    if (store.description) lines.push(store.description);
    if (store.instructions) lines.push(store.instructions);
  }
  return lines.join('\n');
}

/** Why a memory write was refused: the API's 409 types. */
export type MemoryConflictType = 'memory_path_conflict_error' | 'memory_precondition_failed_error' | 'conflict_error';

/** A memory write that contradicts the store's state (a taken path, a stale hash, an archived store). */
export class MemoryConflictError extends ConflictError {
  readonly type: MemoryConflictType;
  readonly conflictingPath: string | undefined;
  readonly conflictingMemoryId: string | undefined;

  constructor(type: MemoryConflictType, message: string, conflicting?: { path: string; memoryId: string }) {
    super(message);
    this.type = type;
    this.conflictingPath = conflicting?.path;
    this.conflictingMemoryId = conflicting?.memoryId;
  }
}
