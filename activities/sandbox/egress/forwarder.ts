// The sandbox's one way out. An `egress` container has no network interface but loopback (NetworkMode none): no
// route, no DNS, no address of the host or of another container to open a raw socket to. Into its network namespace
// we start socat — from the host, with `nsenter` — listening on the container's 127.0.0.1:<proxyPort> and relaying each
// connection to the host's egress proxy through that sandbox's own Unix socket. socat also joins the container's PID
// namespace, so the kernel ends it with the container; it runs as root, so the sandbox's user cannot stop or replace
// it, and a worker restart does not touch it (the new proxy reopens the same socket path).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Where the sandbox's proxy listens, inside the container. */
export const sandboxProxyPort = 3128;
export const sandboxProxyUrl = `http://127.0.0.1:${sandboxProxyPort}`;
const startTimeoutMs = 5_000;

export interface ForwarderOptions {
  /** The container's main process, as the host sees it (docker inspect State.Pid). */
  containerPid: number;
  socketPath: string;
  nsenterPath?: string;
  socatPath?: string;
}

/** Whether something listens on 127.0.0.1:<proxyPort> in the process's network namespace. */
export async function forwarderListening(containerPid: number): Promise<boolean> {
  const wanted = `0100007F:${sandboxProxyPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile(`/proc/${containerPid}/net/tcp`, 'utf8').catch(() => '');
  // Columns: sl local_address rem_address st …; state 0A is LISTEN.
  return table.split('\n').some((line) => {
    const columns = line.trim().split(/\s+/);
    return columns[1] === wanted && columns[3] === '0A';
  });
}

/** Starts the relay unless one already listens (left by an earlier worker process); resolves once it listens. */
export async function startForwarder(options: ForwarderOptions): Promise<void> {
  if (await forwarderListening(options.containerPid)) return;
  const argv = [
    `--target=${options.containerPid}`,
    '--net',
    '--pid',
    '--',
    options.socatPath ?? 'socat',
    `TCP-LISTEN:${sandboxProxyPort},bind=127.0.0.1,reuseaddr,fork`,
    `UNIX-CONNECT:${options.socketPath}`,
  ];
  const child = spawn(options.nsenterPath ?? 'nsenter', argv, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  child.once('error', (error) => (spawnError = error));
  child.once('exit', (code) => (exitCode = code ?? -1));
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (await forwarderListening(options.containerPid)) {
      child.stderr.destroy();
      child.unref();
      return;
    }
    if (spawnError) throw new Error(`the sandbox's egress relay could not start: ${spawnError.message}`);
    if (exitCode !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (/address already in use/i.test(stderr)) return;
  if (exitCode === undefined) child.kill('SIGKILL');
  throw new Error(
    `the sandbox's egress relay did not start (exit ${String(exitCode)}): ${stderr.trim().slice(0, 300)}`,
  );
}
