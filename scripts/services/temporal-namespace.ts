// Prepares a namespace on a Temporal server as this project needs it: registered, with the session search attributes
// (domain/search-attributes.ts) added, and reaching history and matching. Used by the cluster profile
// (scripts/services/temporal-cluster.ts) and, in the compose deployment, by the temporal-setup job
// (scripts/register-namespace.ts in the platform image).
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import proto from '@temporalio/proto';
import { sessionSearchAttributes } from '../../domain/search-attributes.ts';
import { waitUntil } from './process.ts';

async function withConnection<T>(address: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

export async function systemInfoAnswers(address: string): Promise<boolean> {
  return withConnection(address, async (c) => {
    await c.workflowService.getSystemInfo({});
    return true;
  });
}

/** Registers the namespace (when missing) and the project's search attributes on it (SQL visibility: per namespace). */
export async function registerNamespace(address: string, namespace: string): Promise<void> {
  await withConnection(address, async (c) => {
    try {
      await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    } catch (error) {
      if (!String(error).includes('already')) throw error;
    }
  });
  const types = proto.temporal.api.enums.v1.IndexedValueType;
  const searchAttributes = Object.fromEntries(
    Object.entries(sessionSearchAttributes).map(([name, type]) => [
      name,
      types[`INDEXED_VALUE_TYPE_${type.toUpperCase()}` as keyof typeof types],
    ]),
  );
  await waitUntil(
    'search attributes registered',
    () =>
      withConnection(address, async (c) => {
        try {
          await c.operatorService.addSearchAttributes({ namespace, searchAttributes });
        } catch (error) {
          if (!String(error).includes('already')) throw error;
        }
        return true;
      }),
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** Starts and terminates a throwaway workflow: the namespace has reached history and matching. */
export async function workflowRoundTrip(address: string, namespace: string): Promise<boolean> {
  return withConnection(address, async (c) => {
    const workflowId = `cluster-probe-${Date.now()}`;
    await c.workflowService.startWorkflowExecution({
      namespace,
      workflowId,
      requestId: workflowId,
      workflowType: { name: 'cluster-probe' },
      taskQueue: { name: 'cluster-probe' },
    });
    await c.workflowService.terminateWorkflowExecution({ namespace, workflowExecution: { workflowId } });
    return true;
  });
}

/** Waits for the frontend, registers the namespace and its search attributes, and waits until it takes workflows. */
export async function prepareNamespace(address: string, namespace: string, timeoutMs = 120_000): Promise<void> {
  await waitUntil('Temporal frontend', () => systemInfoAnswers(address), { timeoutMs, intervalMs: 1_000 });
  await registerNamespace(address, namespace);
  await waitUntil('namespace accepts workflows', () => workflowRoundTrip(address, namespace), {
    timeoutMs,
    intervalMs: 1_000,
  });
}
