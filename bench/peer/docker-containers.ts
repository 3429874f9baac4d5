// Containers for the peer's `docker exec` tool mode (bench/peer/langgraph/agent.py): our sandbox image, started with
// `sleep infinity` before the clock (as our sessions' containers are started by a warm-up turn), removed afterwards.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function startPeerContainers(image: string, count: number, label: string): Promise<string[]> {
  const names: string[] = [];
  for (let index = 0; index < count; index++) {
    const name = `${label}-${index}`;
    await run('docker', [
      ...['run', '-d', '--rm', '--name', name, '--label', `io.temporal-agents.peer-bench=${label}`],
      ...['--network', 'none', '--entrypoint', 'sleep', image, 'infinity'],
    ]);
    names.push(name);
  }
  return names;
}

export async function removePeerContainers(names: string[]): Promise<void> {
  if (names.length > 0) await run('docker', ['rm', '-f', ...names]).catch(() => undefined);
}
