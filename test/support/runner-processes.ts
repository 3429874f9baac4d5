// Starts the official SDK's runner (test/support/official-runner.ts) as a process of its own, so a test can kill it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitUntil, type ManagedProcess } from '../../scripts/services/process.ts';
import { projectRoot } from '../../scripts/services/tools-env.ts';

let started = 0;

export async function startOfficialRunner(options: {
  baseURL: string;
  environmentId: string;
  environmentKey: string;
  workdir: string;
}): Promise<ManagedProcess> {
  const logFile = join(tmpdir(), `agents-runner-${process.pid}-${++started}.log`);
  const runner = startProcess(
    'runner',
    process.execPath,
    ['--import', 'tsx', join(projectRoot, 'test/support/official-runner.ts')],
    {
      logFile,
      cwd: projectRoot,
      env: {
        ...process.env,
        RUNNER_BASE_URL: options.baseURL,
        RUNNER_ENVIRONMENT_ID: options.environmentId,
        RUNNER_ENVIRONMENT_KEY: options.environmentKey,
        RUNNER_WORKDIR: options.workdir,
      },
    },
  );
  await waitUntil('runner', async () => readFileSync(logFile, 'utf8').includes('runner started'), {
    process: runner,
    timeoutMs: 60_000,
  });
  return runner;
}

/**
 * A crash of the runner's host: SIGKILL to the runner and every process under it. The SDK starts its bash tool's
 * shell in a process group of its own, so killing the runner's group alone would leave the in-flight command running
 * to completion (its effect would then happen twice: once there, once on the runner that takes the item over).
 */
export async function crashRunner(runner: ManagedProcess): Promise<void> {
  const pid = runner.child.pid;
  if (!pid) return;
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const tree = [pid];
  for (let index = 0; index < tree.length; index++) {
    for (const [child, parent] of table) if (parent === tree[index]) tree.push(child);
  }
  for (const member of tree) {
    try {
      process.kill(member, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await runner.exited;
}
