// The coordinator's fan-out tool: a plan of phases, each a set of tasks run at once as session threads; a phase starts
// when the one before it has finished. A failing task is retried (a fresh thread) up to its phase's `max_retries`; a
// task that still fails ends the run. The call's result is every task's reply, by phase (domain/workflow-runs.ts).
import { z } from 'zod';
import type { AgentSnapshot } from '../agent.ts';
import {
  defaultPhaseRetries,
  defaultWorkflowRunTimeoutSeconds,
  maxPhaseRetries,
  maxWorkflowRunTimeoutSeconds,
} from '../workflow-runs.ts';
import { defineTool, type ToolInputOf } from './tool-definition.ts';

export const workflowRunToolName = 'start_workflow_run';

export function workflowRunToolDefinition(agent: AgentSnapshot) {
  const names = (agent.multiagent?.agents ?? []).map((entry) => entry.name);
  const task = z.object({
    agent: z.enum(names.length > 0 ? (names as [string, ...string[]]) : ['']).describe('The agent that runs the task.'),
    message: z.string().min(1).max(100_000).describe('The task: everything the agent needs to know.'),
  });
  const phase = z.object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    tasks: z.array(task).min(1).max(10).describe('Run at once, each in its own session thread.'),
    max_retries: z
      .number()
      .int()
      .min(0)
      .max(maxPhaseRetries)
      .optional()
      .describe(`Retries of a failing task of this phase, each in a fresh thread (default ${defaultPhaseRetries}).`),
  });
  return defineTool({
    name: workflowRunToolName,
    description:
      'Start a workflow run: a plan of phases that run one after another; the tasks of a phase run in parallel, ' +
      'each in its own session thread running one of your agents. A failing task is retried in a fresh thread up ' +
      "to its phase's max_retries; a task that still fails ends the run with an error. The result lists every " +
      "task's reply, by phase. Use it for fan-out work whose steps depend on the previous step's results only " +
      `through what you put in the plan.`,
    input: z.object({
      name: z.string().min(1).max(200).describe('A short name for the run.'),
      description: z.string().max(2000).optional(),
      phases: z.array(phase).min(1).max(10),
      timeout_seconds: z
        .number()
        .int()
        .min(1)
        .max(maxWorkflowRunTimeoutSeconds)
        .optional()
        .describe(`The run's time limit (default ${defaultWorkflowRunTimeoutSeconds}).`),
    }),
  });
}

/** A plan as the tool's schema reads it. */
export type WorkflowRunPlan = ToolInputOf<ReturnType<typeof workflowRunToolDefinition>>;
