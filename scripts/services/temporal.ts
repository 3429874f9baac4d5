// The Temporal CLI's dev server: SQLite (a file when persistent, memory otherwise), Web UI, project search attributes,
// and the task dispatch read rates every server of ours gets (temporal-server-config.ts).
import { Connection } from '@temporalio/client';
import { sessionSearchAttributes } from '../../domain/search-attributes.ts';
import { startProcess, waitUntil, type ManagedProcess } from './process.ts';
import { taskDispatchReadRates } from './temporal-server-config.ts';

export interface TemporalDevServerOptions {
  bin: string;
  port: number;
  uiPort?: number;
  /** Omit for an in-memory server that forgets everything on exit. */
  dbFile?: string;
  logFile: string;
  codecEndpoint?: string;
  /** Dynamic config values (`--dynamic-config-value key=value`; the value is YAML, e.g. a duration as '"5s"'). */
  dynamicConfig?: Record<string, string | number>;
}

export interface TemporalDevServer {
  address: string;
  uiUrl?: string;
  process: ManagedProcess;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const [key, value] of Object.entries({ ...taskDispatchReadRates, ...options.dynamicConfig }))
    args.push('--dynamic-config-value', `${key}=${value}`);
  for (const [name, type] of Object.entries(sessionSearchAttributes))
    args.push('--search-attribute', `${name}=${type}`);
  const process = startProcess('temporal', options.bin, args, { logFile: options.logFile });
  const address = `127.0.0.1:${options.port}`;
  await waitUntil('Temporal dev server', () => temporalAnswers(address), { process, timeoutMs: 60_000 });
  return { address, uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined, process };
}

/** True when the frontend answers a namespace describe (the server is up and the default namespace exists). */
export async function temporalAnswers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}
