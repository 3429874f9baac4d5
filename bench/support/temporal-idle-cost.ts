// What an idle session costs Temporal, read from the server and the worker: for a sample of idle sessions, their
// history (events by type, bytes), pending timers and activities; from the session worker's Prometheus endpoint, its
// workflow cache (sticky cache size and forced evictions); and how many session workflows are open.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sessionWorkflowId } from '../../domain/ids.ts';

const EventType = temporal.api.enums.v1.EventType;

export interface IdleCost {
  sampled: number;
  /** History events per idle session (the same for every sampled one, else min–max). */
  historyEvents: { min: number; max: number };
  historyBytes: { min: number; max: number };
  /** Event types of the first sampled history, in order. */
  eventTypes: string[];
  /** Timers started and not fired or cancelled, summed over the sample. */
  pendingTimers: number;
  pendingActivities: number;
  /** Open session workflows on the server (visibility count). */
  openSessionWorkflows: number;
}

const eventTypeName = (type: number | null | undefined) =>
  (EventType[type ?? 0] ?? String(type)).replace(/^EVENT_TYPE_/, '');

async function describeOne(client: Client, sessionId: string) {
  const handle = client.workflow.getHandle(sessionWorkflowId(sessionId));
  const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  const types = (history.events ?? []).map((event) => eventTypeName(event.eventType));
  const count = (name: string) => types.filter((type) => type === name).length;
  return {
    events: description.historyLength,
    bytes: description.historySize ?? 0,
    types,
    pendingTimers: count('TIMER_STARTED') - count('TIMER_FIRED') - count('TIMER_CANCELED'),
    pendingActivities: description.raw.pendingActivities?.length ?? 0,
  };
}

export async function idleCost(client: Client, sessionIds: string[], taskQueue: string): Promise<IdleCost> {
  const described = [];
  for (const id of sessionIds) described.push(await describeOne(client, id));
  const events = described.map((one) => one.events);
  const bytes = described.map((one) => one.bytes);
  const { count } = await client.workflow.count(
    `WorkflowType = 'sessionWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
  );
  return {
    sampled: described.length,
    historyEvents: { min: Math.min(...events), max: Math.max(...events) },
    historyBytes: { min: Math.min(...bytes), max: Math.max(...bytes) },
    eventTypes: described[0]?.types ?? [],
    pendingTimers: described.reduce((sum, one) => sum + one.pendingTimers, 0),
    pendingActivities: described.reduce((sum, one) => sum + one.pendingActivities, 0),
    openSessionWorkflows: count,
  };
}

/** The session worker's workflow-cache series (Temporal core's sticky cache metrics), name → value. */
export async function workflowCacheMetrics(metricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const series: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !/sticky_cache|workflow_active_thread/.test(line)) continue;
    const match = /^([a-z_]+)(?:\{[^}]*\})?\s+(\S+)$/.exec(line.trim());
    if (match) series[match[1]!] = (series[match[1]!] ?? 0) + Number(match[2]);
  }
  return series;
}
