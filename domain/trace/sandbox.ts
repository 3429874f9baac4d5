// The sandbox lifecycle in a session's trace — create, restore, pause, resume, snapshot, remove — read from the
// session workflow's activities in Temporal's history (it is not in the event log); the API reduces them to plain
// records (api/sandbox-history.ts) and this pure code turns them into spans.
import type { SandboxSpan, SandboxSpanKind } from './schema.ts';
import { between, timeOf } from './time-and-text.ts';

/** One sandbox activity as Temporal's history records it, reduced to plain data by the API. */
export interface SandboxActivityRecord {
  activityType: string;
  /** ISO time the activity was scheduled. */
  scheduledAt: string;
  /** ISO time its last attempt started (Temporal writes it only once the activity closes). */
  startedAt?: string;
  closedAt?: string;
  status: SandboxSpan['status'];
  failure?: string;
  /** The task queue it was scheduled on: the shared creation queue or a Docker host's own. */
  hostQueue?: string;
  /** The activity's summary (e.g. 'restore sandbox from snapshot'), when it could be decoded. */
  summary?: string;
}

const sandboxActivityKinds: Record<string, SandboxSpanKind> = {
  createSandbox: 'create',
  resumeSandbox: 'resume',
  pauseSandbox: 'pause',
  snapshotSandbox: 'snapshot',
  destroySandbox: 'remove',
};

/** The activity types that make up the sandbox lifecycle (runTool is a tool call, already in the event log). */
export const sandboxLifecycleActivityTypes: readonly string[] = Object.keys(sandboxActivityKinds);

/**
 * Sandbox lifecycle spans from the session's sandbox activities, in time order. A createSandbox is a restore when its
 * summary says so; without a summary, when a snapshot completed before it (the workflow restores from its last one).
 */
export function buildSandboxSpans(records: readonly SandboxActivityRecord[]): SandboxSpan[] {
  const ordered = records
    .map((record, index) => ({ record, index, at: timeOf(record.scheduledAt) ?? 0 }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ record }) => record);
  const spans: SandboxSpan[] = [];
  let snapshotTaken = false;
  for (const record of ordered) {
    const baseKind = sandboxActivityKinds[record.activityType];
    if (!baseKind) continue;
    let kind = baseKind;
    if (baseKind === 'create') {
      const summary = record.summary?.toLowerCase();
      const restore = summary === undefined ? snapshotTaken : summary.includes('restore');
      kind = restore ? 'restore' : 'create';
    }
    if (baseKind === 'snapshot' && record.status === 'completed') snapshotTaken = true;
    const startedAt = record.startedAt ?? record.scheduledAt;
    const endedAt = record.status === 'running' ? null : (record.closedAt ?? null);
    spans.push({
      kind,
      summary: record.summary ?? null,
      scheduled_at: record.scheduledAt,
      started_at: startedAt,
      ended_at: endedAt,
      duration_ms: between(startedAt, endedAt),
      status: record.status,
      ...(record.failure !== undefined ? { error: record.failure } : {}),
      host_queue: record.hostQueue ?? null,
    });
  }
  return spans;
}
