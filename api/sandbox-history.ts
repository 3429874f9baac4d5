// The session's sandbox lifecycle as Temporal's history records it: the sandbox activities of the workflow's runs
// (newest first, following continue-as-new back to a bound), reduced to plain records for domain/trace/sandbox.ts.
// Read through the client's public API: WorkflowHandle.fetchHistory, and the client's data converter (its payload
// codecs, then its payload converter) for the activity summaries and failure messages the platform encrypts.
import type { Client } from '@temporalio/client';
import type { LoadedDataConverter, Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { FastifyBaseLogger } from 'fastify';
import { sessionWorkflowId } from '../domain/ids.ts';
import {
  buildSandboxSpans,
  sandboxLifecycleActivityTypes,
  type SandboxActivityRecord,
} from '../domain/trace/sandbox.ts';
import type { SandboxTrace } from '../domain/trace/schema.ts';

/** The sandbox section reads at most this many runs of the session (the newest), within this time, else is left out. */
const maxHistoryRuns = 10;
const historyReadTimeoutMs = 5_000;
const sandboxActivityTypes = new Set(sandboxLifecycleActivityTypes);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;
type ClosedStatus = Exclude<SandboxActivityRecord['status'], 'running'>;

const isoOf = (event: HistoryEvent): string | undefined => {
  const time = event.eventTime;
  if (!time) return undefined;
  const seconds = typeof time.seconds === 'number' ? time.seconds : (time.seconds?.toNumber() ?? 0);
  return new Date(seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString();
};

/** A payload as the client's data converter reads it: codecs undone in reverse order, then converted. */
async function decodePayload(converter: LoadedDataConverter, payload: Payload): Promise<unknown> {
  let payloads = [payload];
  for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  const decoded = payloads[0];
  return decoded === undefined ? undefined : converter.payloadConverter.fromPayload(decoded);
}

/** What a failed or timed-out activity says (the platform moves failure messages into encoded attributes). */
async function failureText(converter: LoadedDataConverter, failure: Failure): Promise<string | undefined> {
  try {
    if (failure.encodedAttributes) {
      const attributes = await decodePayload(converter, failure.encodedAttributes);
      const message = (attributes as { message?: unknown } | undefined)?.message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Unreadable attributes (e.g. a key this API does not hold): the plain message is what there is.
  }
  return failure.message ?? undefined;
}

async function decodeSummary(converter: LoadedDataConverter, payload: Payload, record: SandboxActivityRecord) {
  const summary = await decodePayload(converter, payload).catch(() => undefined);
  if (typeof summary === 'string') record.summary = summary;
}

async function decodeFailure(converter: LoadedDataConverter, failure: Failure, record: SandboxActivityRecord) {
  record.failure = await failureText(converter, failure);
}

/** An activity event after scheduling: which scheduled activity it belongs to and what it says. */
function closingOf(
  event: HistoryEvent,
): { scheduledEventId: string; status: 'started' | ClosedStatus; failure?: Failure | null } | undefined {
  const id = (attributes: { scheduledEventId?: unknown } | null | undefined) => String(attributes?.scheduledEventId);
  if (event.activityTaskStartedEventAttributes) {
    return { scheduledEventId: id(event.activityTaskStartedEventAttributes), status: 'started' };
  }
  if (event.activityTaskCompletedEventAttributes) {
    return { scheduledEventId: id(event.activityTaskCompletedEventAttributes), status: 'completed' };
  }
  if (event.activityTaskFailedEventAttributes) {
    const attributes = event.activityTaskFailedEventAttributes;
    return { scheduledEventId: id(attributes), status: 'failed', failure: attributes.failure };
  }
  if (event.activityTaskTimedOutEventAttributes) {
    const attributes = event.activityTaskTimedOutEventAttributes;
    return { scheduledEventId: id(attributes), status: 'timed_out', failure: attributes.failure };
  }
  if (event.activityTaskCanceledEventAttributes) {
    return { scheduledEventId: id(event.activityTaskCanceledEventAttributes), status: 'canceled' };
  }
  return undefined;
}

/** The sandbox activities of one run, paired by scheduled event id, and the run it continued from. */
async function readRunSandboxActivities(
  client: Client,
  workflowId: string,
  runId: string | undefined,
): Promise<{ records: SandboxActivityRecord[]; previousRunId: string | undefined }> {
  const converter = client.options.loadedDataConverter;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const byScheduledId = new Map<string, SandboxActivityRecord>();
  const decoding: Promise<void>[] = [];
  let previousRunId: string | undefined;
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) previousRunId = started.continuedExecutionRunId || undefined;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const activityType = scheduled.activityType?.name ?? '';
      if (!sandboxActivityTypes.has(activityType)) continue;
      const record: SandboxActivityRecord = {
        activityType,
        scheduledAt: isoOf(event) ?? new Date(0).toISOString(),
        status: 'running',
        hostQueue: scheduled.taskQueue?.name ?? undefined,
      };
      byScheduledId.set(String(event.eventId), record);
      const summary = event.userMetadata?.summary;
      if (summary) decoding.push(decodeSummary(converter, summary, record));
      continue;
    }
    const close = closingOf(event);
    const record = close && byScheduledId.get(close.scheduledEventId);
    if (!close || !record) continue;
    if (close.status === 'started') {
      record.startedAt = isoOf(event);
      continue;
    }
    record.status = close.status;
    record.closedAt = isoOf(event);
    const failure = close.failure;
    if (failure) decoding.push(decodeFailure(converter, failure, record));
  }
  await Promise.all(decoding);
  return { records: [...byScheduledId.values()], previousRunId };
}

/**
 * The session's sandbox lifecycle from Temporal's history: the newest run, then the runs it continued from, up to
 * maxHistoryRuns. Undefined (and a warning) when Temporal cannot be read in time: the trace goes out without it.
 */
export async function readSandboxTrace(
  client: Client,
  sessionId: string,
  log: FastifyBaseLogger,
): Promise<SandboxTrace | undefined> {
  const workflowId = sessionWorkflowId(sessionId);
  try {
    return await client.withDeadline(Date.now() + historyReadTimeoutMs, async () => {
      const records: SandboxActivityRecord[] = [];
      const seen = new Set<string>();
      let runId: string | undefined;
      let runsRead = 0;
      let olderRunsOmitted = false;
      for (;;) {
        const run = await readRunSandboxActivities(client, workflowId, runId);
        records.push(...run.records);
        runsRead++;
        if (!run.previousRunId || seen.has(run.previousRunId)) break;
        if (runsRead >= maxHistoryRuns) {
          olderRunsOmitted = true;
          break;
        }
        seen.add(run.previousRunId);
        runId = run.previousRunId;
      }
      return { spans: buildSandboxSpans(records), runs_read: runsRead, older_runs_omitted: olderRunsOmitted };
    });
  } catch (error) {
    log.warn({ err: error, sessionId }, "could not read the session's history; the trace omits the sandbox lifecycle");
    return undefined;
  }
}
