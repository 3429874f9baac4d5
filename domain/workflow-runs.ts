// Workflow runs (Anthropic's `workflow_run.*`): a coordinator submits a plan — phases run one after another, the tasks
// of a phase at once, each task a session thread — with the `start_workflow_run` tool (domain/tools/workflow-run-tool.ts).
// The primary thread runs the plan (workflows/workflow-runs.ts); these are the shapes and limits both sides share.
import type { AgentSnapshot } from './agent.ts';

/** Runs of one session open at once (the API's `max_workflow_runs_error`). */
export const maxOpenWorkflowRuns = 3;
/** Threads one run may create, retries included (the API's `thread_limit_error`). */
export const maxThreadsPerWorkflowRun = 30;
/** A run's time limit when the plan sets none, and the most it may set (the API's `timeout_error`). */
export const defaultWorkflowRunTimeoutSeconds = 3600;
export const maxWorkflowRunTimeoutSeconds = 6 * 3600;
/** Retries of a failing task when its phase sets none, and the most a phase may set. */
export const defaultPhaseRetries = 1;
export const maxPhaseRetries = 5;

/**
 * Whether an agent may start workflow runs: a coordinator may, with its roster as the plan's agents — unless
 * `multiagent_20261001` disabled `workflows`, or it has only an advisor.
 */
export const workflowRunsEnabled = (agent: AgentSnapshot): boolean =>
  agent.multiagent !== undefined && agent.multiagent.workflow_runs !== false && agent.multiagent.agents.length > 0;
