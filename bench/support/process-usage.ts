// A process's resource usage from /proc: CPU time, and resident memory — the total (VmRSS) and where it lives, read
// from /proc/<pid>/smaps. The
// classes are heuristics on anonymous mappings, good enough to tell the JS engine's heap from the C allocator's:
// V8 reserves its heap in 256 KiB pages, glibc's per-thread malloc arenas are 64 MiB-aligned, its main arena is the
// brk [heap].
import { readFileSync } from 'node:fs';

export interface MemoryBreakdown {
  rssMb: number;
  /** MB resident per class of mapping. */
  classes: Record<MemoryClass, number>;
}

export type MemoryClass = 'v8Heap' | 'mallocArenas' | 'mallocBrkHeap' | 'files' | 'otherAnonymous';

export const memoryClassNames: Record<MemoryClass, string> = {
  v8Heap: 'V8 heap pages (anonymous, 256 KiB multiples)',
  mallocArenas: 'glibc malloc thread arenas (64 MiB-aligned)',
  mallocBrkHeap: 'glibc main arena ([heap])',
  files: 'file-backed (node binary, core bridge, libraries)',
  otherAnonymous: 'other anonymous (stacks, V8 code, buffers)',
};

const megabytes = (kb: number) => Math.round((kb / 1024) * 10) / 10;
const v8PageBytes = 256 * 1024;
const arenaAlignment = 64 * 1024 * 1024;

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces, hence the last ')'): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return megabytes(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN));
}

export function memoryBreakdown(pid: number): MemoryBreakdown {
  const kb: Record<MemoryClass, number> = { v8Heap: 0, mallocArenas: 0, mallocBrkHeap: 0, files: 0, otherAnonymous: 0 };
  let current: MemoryClass = 'otherAnonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) {
      current = classify(BigInt(`0x${mapping[1]}`), BigInt(`0x${mapping[2]}`), mapping[3]!, mapping[4]!.trim());
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[current] += Number(rss[1]);
  }
  const classes = Object.fromEntries(Object.entries(kb).map(([name, value]) => [name, megabytes(value)])) as Record<
    MemoryClass,
    number
  >;
  return { rssMb: rssMb(pid), classes };
}

function classify(start: bigint, end: bigint, permissions: string, name: string): MemoryClass {
  if (name.startsWith('/')) return 'files';
  if (name === '[heap]') return 'mallocBrkHeap';
  if (name !== '') return 'otherAnonymous';
  if (start >= 0x7f0000000000n && start % BigInt(arenaAlignment) === 0n) return 'mallocArenas';
  if (!permissions.includes('x') && (end - start) % BigInt(v8PageBytes) === 0n) return 'v8Heap';
  return 'otherAnonymous';
}
