// Where an activity round trip goes, read from a workflow's Temporal history (server timestamps): for each activity
// after a given event, the wait for a worker's poll (scheduled → started), the run (started → completed), and the
// session worker's workflow task that follows (completed → the next task's completion: the task's dispatch plus its
// processing, which decides and schedules what comes next). Used by P1's profile.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const type = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const at = (event: HistoryEvent) => Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

export interface ActivityTimeline {
  /** Per activity type: scheduled → started, started → completed, completed → next workflow task completed (ms). */
  activities: Record<string, { dispatch: number[]; run: number[]; workflowTask: number[] }>;
  /** Per workflow task: started → completed (ms). */
  workflowTaskProcessing: number[];
  /** History events, workflow tasks and markers from the first event counted on. */
  events: number;
  workflowTasks: number;
  markers: number;
}

/** The timeline of the workflow's history from its `fromEvent`-th signal or update (0-based; -1: the last one) on. */
export async function activityTimeline(
  client: Client,
  workflowId: string,
  fromMessage = -1,
): Promise<ActivityTimeline> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const all = history.events ?? [];
  const messages = all.flatMap((event, index) =>
    event.eventType === type.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED ||
    event.eventType === type.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
      ? [index]
      : [],
  );
  const events = all.slice(messages.at(fromMessage) ?? 0);
  const timeline: ActivityTimeline = {
    activities: {},
    workflowTaskProcessing: [],
    events: events.length,
    workflowTasks: 0,
    markers: 0,
  };
  const scheduled = new Map<string, { name: string; at: number }>();
  const started = new Map<string, number>();
  let taskStarted: number | undefined;
  let awaitingTask: { name: string; at: number } | undefined;
  for (const event of events) {
    const id = String(event.eventId);
    switch (event.eventType) {
      case type.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(id, {
          name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          at: at(event),
        });
        break;
      case type.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const from = scheduled.get(String(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (from) started.set(String(event.activityTaskStartedEventAttributes?.scheduledEventId), at(event));
        break;
      }
      case type.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const key = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        const from = scheduled.get(key);
        const start = started.get(key);
        if (!from || start === undefined) break;
        const entry = (timeline.activities[from.name] ??= { dispatch: [], run: [], workflowTask: [] });
        entry.dispatch.push(start - from.at);
        entry.run.push(at(event) - start);
        awaitingTask = { name: from.name, at: at(event) };
        break;
      }
      case type.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        taskStarted = at(event);
        break;
      case type.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        timeline.workflowTasks++;
        if (taskStarted !== undefined) timeline.workflowTaskProcessing.push(at(event) - taskStarted);
        if (awaitingTask) timeline.activities[awaitingTask.name]!.workflowTask.push(at(event) - awaitingTask.at);
        awaitingTask = undefined;
        break;
      case type.EVENT_TYPE_MARKER_RECORDED:
        timeline.markers++;
        break;
    }
  }
  return timeline;
}
