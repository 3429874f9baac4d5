// A deployment's Temporal Schedule (`deployment-<id>`): created, updated, paused and deleted to match the deployment
// row. The schedule's action starts `deploymentRunWorkflow` on the automation queue. Policies:
// - overlap SKIP: a firing while the previous run of the same deployment is still in flight is skipped, never run
//   alongside it;
// - catch-up window (AGENTS_DEPLOYMENT_CATCHUP_WINDOW_MS, default 10 min): firings missed while Temporal or the
//   workers were down are taken when they come back if not older than the window; older ones are dropped (the
//   overlap policy then runs them one at a time, so an outage yields at most a few catch-up runs, each recorded with
//   its own `scheduled_at`).
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { DeploymentRow } from '../db/repositories/deployments.ts';
import {
  deploymentRunWorkflowId,
  deploymentRunWorkflowType,
  deploymentScheduleId,
  temporalCronString,
  type DeploymentRunWorkflowInput,
} from '../domain/deployments.ts';
import { tenantIdKey } from '../domain/search-attributes.ts';
import { taskQueues, withPrefix } from '../domain/task-queues.ts';

export interface DeploymentScheduleOptions {
  taskQueuePrefix: string;
  catchupWindowMs: number;
  /** Bound of one call to Temporal (the API answers 503 after it). */
  timeoutMs?: number;
}

export class DeploymentSchedules {
  private readonly client: Client;
  private readonly options: DeploymentScheduleOptions;

  constructor(client: Client, options: DeploymentScheduleOptions) {
    this.client = client;
    this.options = options;
  }

  private bounded<R>(fn: () => Promise<R>): Promise<R> {
    return this.client.withDeadline(Date.now() + (this.options.timeoutMs ?? 5_000), fn);
  }

  private definition(row: DeploymentRow) {
    const schedule = row.schedule!;
    const input: DeploymentRunWorkflowInput = { tenantId: row.tenant_id, deploymentId: row.id };
    return {
      spec: { cronExpressions: [temporalCronString(schedule.expression)], timezone: schedule.timezone },
      action: {
        type: 'startWorkflow' as const,
        workflowType: deploymentRunWorkflowType,
        args: [input],
        taskQueue: withPrefix(this.options.taskQueuePrefix, taskQueues.automation),
        workflowId: deploymentRunWorkflowId(row.id),
        typedSearchAttributes: [{ key: tenantIdKey, value: row.tenant_id }],
        staticSummary: `deployment ${row.name}`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: this.options.catchupWindowMs },
      state: { paused: row.paused_reason !== null, note: pauseNote(row) },
    };
  }

  /** Makes the schedule match the row: present (paused or not) while the row has a schedule and is not archived. */
  async sync(row: DeploymentRow): Promise<void> {
    const scheduleId = deploymentScheduleId(row.id);
    const handle = this.client.schedule.getHandle(scheduleId);
    if (!row.schedule || row.archived_at) {
      await this.bounded(() => handle.delete()).catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
      return;
    }
    const definition = this.definition(row);
    try {
      await this.bounded(() => handle.update(() => definition));
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      await this.bounded(() => this.client.schedule.create({ scheduleId, ...definition }));
    }
  }

  /** Up to 5 upcoming firings as Temporal computed them; empty without a schedule. */
  async upcoming(row: DeploymentRow): Promise<string[]> {
    if (!row.schedule || row.archived_at) return [];
    try {
      const description = await this.bounded(() =>
        this.client.schedule.getHandle(deploymentScheduleId(row.id)).describe(),
      );
      return description.info.nextActionTimes.slice(0, 5).map((time) => time.toISOString());
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return [];
      throw error;
    }
  }

  /** Pauses the schedule (auto-pause after a failed scheduled run). */
  async pause(deploymentId: string, note: string): Promise<void> {
    await this.bounded(() => this.client.schedule.getHandle(deploymentScheduleId(deploymentId)).pause(note)).catch(
      (error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      },
    );
  }
}

const pauseNote = (row: DeploymentRow): string =>
  row.paused_reason?.type === 'error'
    ? `paused after a failed run: ${row.paused_reason.error.type}`
    : row.paused_reason
      ? 'paused through the API'
      : `deployment ${row.id}`;
