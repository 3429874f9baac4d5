// Outcomes: a task with a rubric (`user.define_outcome`). After the agent ends a turn, a grader — a separate model
// call with its own context — judges the work against the rubric: `satisfied` ends it, `needs_revision` sends the
// explanation back to the agent for another iteration, up to `max_iterations`. This file holds the pure parts: the
// grader's request and how its answer is read, and the session's `outcome_evaluations` as read back from the log.
import { z } from 'zod';
import type { OutcomeResult, SessionEvent } from './events.ts';
import type { ToolSpec } from './model.ts';

export const defaultMaxIterations = 3;
export const maxMaxIterations = 20;

/** The tool the grader answers with. */
export const verdictToolName = 'report_outcome_verdict';

const verdictSchema = z.object({
  result: z.enum(['satisfied', 'needs_revision', 'failed']),
  explanation: z.string().max(100_000).default(''),
});
export type GraderVerdict = z.infer<typeof verdictSchema>;

const { $schema: _schema, ...verdictInputSchema } = z.toJSONSchema(verdictSchema, { io: 'input' }) as Record<
  string,
  unknown
>;

export const verdictTool: ToolSpec = {
  name: verdictToolName,
  description: 'Report whether the work meets every criterion of the rubric.',
  inputSchema: verdictInputSchema,
};

export const graderSystemPrompt = [
  'You are a strict grader. You receive a task, a rubric and the transcript of an agent working on the task.',
  'Judge only the work in the transcript against every criterion of the rubric.',
  `Answer by calling ${verdictToolName} once: "satisfied" when every criterion is met; "needs_revision" with what is`,
  'missing or wrong, specific enough for the agent to fix; "failed" when the rubric cannot apply to this work.',
].join(' ');

/** The grader's single user message: the task, the rubric, and the agent's work rendered as text. */
export function graderPrompt(description: string, rubric: string, work: string): string {
  return `<task>\n${description}\n</task>\n\n<rubric>\n${rubric}\n</rubric>\n\n<transcript>\n${work}\n</transcript>`;
}

/** Reads the grader's answer: the verdict tool's input, else a JSON object in its text; else a revision request. */
export function readVerdict(toolInput: unknown, text: string): GraderVerdict {
  const fromTool = verdictSchema.safeParse(toolInput);
  if (fromTool.success) return fromTool.data;
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (json) {
    try {
      const fromText = verdictSchema.safeParse(JSON.parse(json));
      if (fromText.success) return fromText.data;
    } catch {
      // not JSON: fall through
    }
  }
  return { result: 'needs_revision', explanation: text.trim() || 'The grader gave no verdict.' };
}

/** The agent-facing text of a verdict that asks for more work (what the next iteration's model request carries). */
export function revisionRequest(result: OutcomeResult, iteration: number, explanation: string): string | undefined {
  if (result === 'needs_revision') {
    return `The grader's evaluation ${iteration + 1} found the outcome not yet met:\n${explanation}\nRevise your work so that it meets the rubric.`;
  }
  if (result === 'max_iterations_reached') {
    return `The grader's final evaluation found the outcome still not met:\n${explanation}\nNo more evaluations will run: say briefly what remains unmet.`;
  }
  return undefined;
}

/** The agent-facing text of a defined outcome (it opens the outcome's first turn). */
export const outcomeTaskText = (description: string, rubric: string): string =>
  `${description}\n\nYour work will be graded against this rubric:\n${rubric}`;

/** One entry of the session's `outcome_evaluations` (the API's BetaManagedAgentsOutcomeEvaluationResource). */
export interface OutcomeEvaluation {
  type: 'outcome_evaluation';
  outcome_id: string;
  description: string;
  /** pending | running | evaluating | satisfied | max_iterations_reached | failed | interrupted */
  result: string;
  iteration: number;
  explanation: string | null;
  completed_at: string | null;
}

/** The events outcomeEvaluations reads. */
export const outcomeEventTypes = [
  'user.define_outcome',
  'span.outcome_evaluation_start',
  'span.outcome_evaluation_end',
  'user.interrupt',
];

const terminal = new Set(['satisfied', 'max_iterations_reached', 'failed', 'interrupted']);

/** The outcomes of a session, read back from its events (in order): one entry per `user.define_outcome`. */
export function outcomeEvaluations(events: SessionEvent[]): OutcomeEvaluation[] {
  const byId = new Map<string, OutcomeEvaluation>();
  let current: OutcomeEvaluation | undefined;
  for (const event of events) {
    if (event.type === 'user.define_outcome' && event.outcome_id) {
      current = {
        type: 'outcome_evaluation',
        outcome_id: event.outcome_id,
        description: event.description,
        result: 'running',
        iteration: 0,
        explanation: null,
        completed_at: null,
      };
      byId.set(current.outcome_id, current);
      continue;
    }
    const open = current && !terminal.has(current.result) ? current : undefined;
    if (event.type === 'span.outcome_evaluation_start') {
      const entry = byId.get(event.outcome_id);
      if (entry) Object.assign(entry, { result: 'evaluating', iteration: event.iteration });
    } else if (event.type === 'span.outcome_evaluation_end') {
      const entry = byId.get(event.outcome_id);
      if (!entry) continue;
      entry.explanation = event.explanation;
      entry.iteration = event.iteration;
      if (event.result === 'needs_revision') {
        Object.assign(entry, { result: 'running', iteration: event.iteration + 1 });
      } else {
        Object.assign(entry, { result: event.result, completed_at: event.processed_at });
      }
    } else if (event.type === 'user.interrupt' && open) {
      Object.assign(open, { result: 'interrupted', completed_at: event.processed_at });
    }
  }
  return [...byId.values()];
}
