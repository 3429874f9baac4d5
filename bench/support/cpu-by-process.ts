// CPU seconds of the processes behind a benchmark, read from /proc: this run's Temporal server and PostgreSQL (found
// by their listening ports, PostgreSQL with its backends and what it reaped), given pids (workers), and the machine's
// dockerd and containerd (shared with whoever else uses Docker on the machine).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime (+ cutime + cstime: children it waited for) in seconds. */
function cpuOf(pid: number, withReaped: boolean): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  const own = Number(fields[11]) + Number(fields[12]);
  return (withReaped ? own + Number(fields[13]) + Number(fields[14]) : own) / ticksPerSecond;
}

function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => Number(statFields(pid)?.[1]) === parent);
}

function pidListening(port: number): number | undefined {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  return pid ? Number(pid) : undefined;
}

const pidsNamed = (name: string) =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    });

export interface CpuSources {
  temporalPort: number;
  postgresPort: number;
  /** Named processes of this run (workers, the benchmark process). */
  pids: Record<string, number>;
  /** Named processes counted with the children they waited for (a server whose tools are subprocesses). */
  pidsWithChildren?: Record<string, number>;
}

/** A reading of every source's CPU seconds so far; subtract two readings for the CPU spent between them. */
export function readCpu(sources: CpuSources): Record<string, number> {
  const reading: Record<string, number> = {};
  const temporal = pidListening(sources.temporalPort);
  reading['Temporal server'] = temporal ? cpuOf(temporal, true) : NaN;
  const postmaster = pidListening(sources.postgresPort);
  reading.PostgreSQL = postmaster
    ? cpuOf(postmaster, true) + childrenOf(postmaster).reduce((sum, pid) => sum + cpuOf(pid, false), 0)
    : NaN;
  for (const [name, pid] of Object.entries(sources.pids)) reading[name] = cpuOf(pid, false);
  for (const [name, pid] of Object.entries(sources.pidsWithChildren ?? {})) reading[name] = cpuOf(pid, true);
  reading['dockerd (machine-wide)'] = pidsNamed('dockerd').reduce((sum, pid) => sum + cpuOf(pid, false), 0);
  reading['containerd + shims (machine-wide)'] = [...pidsNamed('containerd'), ...pidsNamed('containerd-shim')]
    .concat(pidsNamed('containerd-shim-runc-v2'))
    .reduce((sum, pid) => sum + cpuOf(pid, true), 0);
  return reading;
}

export const cpuSpent = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(
    Object.keys(after).map((name) => [name, Math.round(((after[name] ?? 0) - (before[name] ?? 0)) * 100) / 100]),
  );
