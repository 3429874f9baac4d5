// The primary thread's advisor (Anthropic's multiagent advisor: "a model the session's primary thread may consult
// mid-turn"). Our shape, as the API does not publish its tool: one call, one question, answered by the advisor model
// in a request of its own (system prompt below, the question as the only message); the answer is the tool's result.
import { z } from 'zod';
import { defineTool, type ToolDefinition } from './tool-definition.ts';

export const advisorToolName = 'consult_advisor';

export const advisorSystemPrompt =
  'You are an advisor to an AI agent working on a task. The agent asks you one question, with the context it ' +
  'chose to share; answer it directly and concisely, with your best judgement.';

export function advisorToolDefinition(model: string): ToolDefinition {
  return defineTool({
    name: advisorToolName,
    description:
      `Consult your advisor, a stronger model (${model}), when you are unsure how to proceed: it sees only what ` +
      'you write in `question`, so include the context it needs. Its answer is the result.',
    input: z.object({
      question: z.string().min(1).describe('The question, with everything the advisor needs to know.'),
    }),
  });
}
