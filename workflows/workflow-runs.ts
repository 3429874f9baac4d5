// Workflow runs, the primary thread's side (domain/workflow-runs.ts): the `start_workflow_run` tool's plan runs here,
// phase after phase; each task of a phase is a session thread (a child workflow `session-<sthr_…>` started through
// workflows/threads.ts, so its events, approvals, interrupts and usage work as for any thread), all of a phase's at
// once. A task whose thread replies with an error is retried in a fresh thread up to the phase's `max_retries`; a task
// that still fails ends the run (`program_error`). Each finished attempt's thread is ended. The run journals
// `workflow_run.created`, `status_running` / `status_idle` (idle while one of its threads waits on the client),
// `phase_started` / `phase_ended`, `error` and `status_ended`; an interrupt or the session's end stops it (`stopped`).
import { condition, log, uuid4 } from '@temporalio/workflow';
import type { WorkflowRunError, WorkflowRunResult } from '../domain/events.ts';
import { makeId } from '../domain/ids.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import { rosterOf } from '../domain/threads.ts';
import { checkToolInput } from '../domain/tools/tool-definition.ts';
import { workflowRunToolDefinition, type WorkflowRunPlan } from '../domain/tools/workflow-run-tool.ts';
import {
  defaultPhaseRetries,
  defaultWorkflowRunTimeoutSeconds,
  maxOpenWorkflowRuns,
  maxThreadsPerWorkflowRun,
} from '../domain/workflow-runs.ts';
import type { EventJournal } from './event-journal.ts';
import type { SessionThreads } from './threads.ts';
import type { ToolCall } from './tool-execution.ts';

type Phase = WorkflowRunPlan['phases'][number];

/** How one task ended: its reply, or why it has none. */
type TaskOutcome =
  | { kind: 'replied'; text: string; threadId: string; attempts: number }
  | { kind: 'failed'; text: string; threadId: string; attempts: number }
  | { kind: 'stopped' | 'timeout' | 'thread_limit' | 'unknown' };

/** One run as it executes. */
interface Run {
  id: string;
  plan: WorkflowRunPlan;
  deadline: number;
  threadsCreated: number;
  /** Threads whose attempt is under way (what the run's idle status follows). */
  live: Set<string>;
  ended: boolean;
}

export class WorkflowRuns {
  private readonly input: SessionWorkflowInput;
  private readonly journal: EventJournal;
  private readonly threads: SessionThreads;
  /** An interrupt arrived or the session is ending: every run stops. */
  private readonly stopping: () => boolean;
  private open = 0;

  constructor(input: SessionWorkflowInput, journal: EventJournal, threads: SessionThreads, stopping: () => boolean) {
    this.input = input;
    this.journal = journal;
    this.threads = threads;
    this.stopping = stopping;
  }

  /** The tool: runs the plan to its end; the result lists every task's reply, by phase. */
  async start(call: ToolCall): Promise<ToolOutcome> {
    const checked = checkToolInput(workflowRunToolDefinition(this.input.agent), call.input);
    if (!checked.ok) return this.refuse({ type: 'program_error', message: 'The plan was refused.' }, checked.message);
    if (this.open >= maxOpenWorkflowRuns) {
      const message = `The session has ${maxOpenWorkflowRuns} workflow runs open.`;
      return this.refuse({ type: 'max_workflow_runs_error', message }, message);
    }
    const plan = checked.input;
    const timeoutSeconds = plan.timeout_seconds ?? defaultWorkflowRunTimeoutSeconds;
    const run: Run = {
      id: makeId('workflowRun', uuid4()),
      plan,
      deadline: Date.now() + timeoutSeconds * 1000,
      threadsCreated: 0,
      live: new Set(),
      ended: false,
    };
    const phases = plan.phases.map((phase) => ({
      id: makeId('workflowRunPhase', uuid4()),
      name: phase.name,
      description: phase.description ?? null,
    }));
    const about = { workflow_run_id: run.id };
    this.journal.emit({
      type: 'workflow_run.created',
      ...about,
      name: plan.name,
      description: plan.description ?? null,
      phases,
    });
    this.journal.emit({ type: 'workflow_run.status_running', ...about });
    this.open++;
    const watching = this.followStatus(run);
    const report: string[] = [];
    let result: WorkflowRunResult = { type: 'completed' };
    for (const [index, phase] of plan.phases.entries()) {
      const started = this.journal.emit({
        type: 'workflow_run.phase_started',
        ...about,
        workflow_run_phase_id: phases[index]!.id,
      });
      const outcomes = await Promise.all(phase.tasks.map((_, task) => this.runTask(run, phase, index, task)));
      this.journal.emit({
        type: 'workflow_run.phase_ended',
        ...about,
        workflow_run_phase_id: phases[index]!.id,
        phase_started_id: started.id,
      });
      report.push(phaseReport(index, phase, outcomes));
      result = resultOf(index, outcomes, timeoutSeconds);
      if (result.type !== 'completed') break;
    }
    run.ended = true;
    await watching;
    this.open--;
    if (result.type === 'error') this.journal.emit({ type: 'workflow_run.error', ...about, error: result.error });
    this.journal.emit({ type: 'workflow_run.status_ended', ...about, result });
    const ending =
      result.type === 'completed'
        ? 'completed'
        : result.type === 'stopped'
          ? 'was stopped'
          : `ended with an error: ${result.error.message}`;
    return {
      content: [`Workflow run ${run.id} ${ending}`, ...report].join('\n\n'),
      isError: result.type !== 'completed',
    };
  }

  /** A plan that never became a run: `workflow_run.error` without a run id, and the reason as the tool's error. */
  private refuse(error: WorkflowRunError, content: string): ToolOutcome {
    this.journal.emit({ type: 'workflow_run.error', workflow_run_id: null, error });
    return { content, isError: true };
  }

  private async runTask(run: Run, phase: Phase, phaseIndex: number, taskIndex: number): Promise<TaskOutcome> {
    try {
      return await this.attemptTask(run, phase, phaseIndex, taskIndex);
    } catch (error) {
      log.warn('a workflow run task failed', { workflowRunId: run.id, error: String(error) });
      return { kind: 'unknown' };
    }
  }

  /** One task: attempts in fresh threads until one replies without an error, or the phase's retries are spent. */
  private async attemptTask(run: Run, phase: Phase, phaseIndex: number, taskIndex: number): Promise<TaskOutcome> {
    const task = phase.tasks[taskIndex]!;
    const agent = rosterOf(this.input.agent).get(task.agent)!; // the schema admits roster names only
    const attempts = 1 + (phase.max_retries ?? defaultPhaseRetries);
    let failed: TaskOutcome | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const stop = this.stopOf(run);
      if (stop) return { kind: stop };
      if (run.threadsCreated >= maxThreadsPerWorkflowRun || this.threads.room <= 0) return { kind: 'thread_limit' };
      run.threadsCreated++;
      const where = `phase ${phaseIndex + 1} task ${taskIndex + 1} attempt ${attempt}`;
      const record = await this.threads.spawn(agent, {
        workflowRunId: run.id,
        summary: `workflow run ${run.plan.name}: ${where} (${agent.name})`,
      });
      const key = `${run.id}/${where}`;
      run.live.add(record.threadId);
      await this.threads.send(record, key, task.message);
      const remaining = run.deadline - Date.now();
      if (remaining > 0) await condition(() => this.threads.hasReply(key) || this.stopping(), remaining);
      run.live.delete(record.threadId);
      const reply = this.threads.takeReply(record, key);
      this.threads.end(record.threadId);
      if (!reply) return { kind: this.stopOf(run) ?? 'timeout' };
      const outcome = { text: reply.text, threadId: record.threadId, attempts: attempt };
      if (!reply.isError) return { kind: 'replied', ...outcome };
      failed = { kind: 'failed', ...outcome };
    }
    return failed!;
  }

  private stopOf(run: Run): 'stopped' | 'timeout' | undefined {
    if (this.stopping()) return 'stopped';
    return Date.now() >= run.deadline ? 'timeout' : undefined;
  }

  /** The run is idle exactly while one of its threads waits on the client. */
  private async followStatus(run: Run): Promise<void> {
    let idle = false;
    const awaiting = () => [...run.live].some((threadId) => this.threads.awaitsClient(threadId));
    for (;;) {
      await condition(() => run.ended || awaiting() !== idle);
      if (run.ended) return;
      idle = !idle;
      this.journal.emit({
        type: idle ? 'workflow_run.status_idle' : 'workflow_run.status_running',
        workflow_run_id: run.id,
      });
    }
  }
}

/** How the run goes on after a phase: on (`completed` so far), or why it ends. */
function resultOf(phaseIndex: number, outcomes: TaskOutcome[], timeoutSeconds: number): WorkflowRunResult {
  const error = (type: WorkflowRunError['type'], message: string): WorkflowRunResult => ({
    type: 'error',
    error: { type, message },
  });
  if (outcomes.some((outcome) => outcome.kind === 'stopped')) return { type: 'stopped' };
  if (outcomes.some((outcome) => outcome.kind === 'timeout')) {
    return error('timeout_error', `The run reached its time limit of ${timeoutSeconds} seconds.`);
  }
  if (outcomes.some((outcome) => outcome.kind === 'thread_limit')) {
    return error('thread_limit_error', `The run reached its limit of ${maxThreadsPerWorkflowRun} threads.`);
  }
  if (outcomes.some((outcome) => outcome.kind === 'unknown')) {
    return error('unknown_error', `A task of phase ${phaseIndex + 1} could not be run.`);
  }
  const failed = outcomes.findIndex((outcome) => outcome.kind === 'failed');
  if (failed >= 0) {
    const attempts = (outcomes[failed] as { attempts: number }).attempts;
    return error('program_error', `Task ${failed + 1} of phase ${phaseIndex + 1} failed after ${attempts} attempts.`);
  }
  return { type: 'completed' };
}

/** What the coordinator reads of a phase: each task's agent, thread, attempts and reply. */
function phaseReport(index: number, phase: Phase, outcomes: TaskOutcome[]): string {
  const lines = outcomes.map((outcome, task) => {
    const agent = phase.tasks[task]!.agent;
    if (outcome.kind !== 'replied' && outcome.kind !== 'failed')
      return `- task ${task + 1} (${agent}): ${outcome.kind}`;
    const state = outcome.kind === 'failed' ? 'failed' : 'replied';
    const attempts = `${outcome.attempts} attempt${outcome.attempts > 1 ? 's' : ''}`;
    return `- task ${task + 1} (${agent}, session_thread_id ${outcome.threadId}, ${attempts}) ${state}:\n${outcome.text}`;
  });
  return [`Phase ${index + 1}: ${phase.name}`, ...lines].join('\n');
}
