// The work-queue local activity's contract (activities/store/work-queue-activities.ts implements it; the session
// workflow calls it when a self-hosted runner must take the session). Its result is the open work item's id.

export interface QueueSessionWorkInput {
  tenantId: string;
  environmentId: string;
  sessionId: string;
}
