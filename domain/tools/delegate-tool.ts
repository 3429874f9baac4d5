// The coordinator's one thread tool. Delegation follows Anthropic's multiagent sessions: each call sends a message to
// a session thread — a new one running a roster agent or, when inline agents are enabled, an agent the coordinator
// defines in the call (domain/inline-agents.ts); or (with `session_thread_id`) one the coordinator started before,
// which keeps its whole context — and the call's result is that thread's reply at the end of its turn. Several calls
// in one response run at once, one thread each.
import { z } from 'zod';
import type { AgentSnapshot } from '../agent.ts';
import { inlineAgentInput, inlineAgentModels, inlineAgentsEnabled, inlineAgentToolNames } from '../inline-agents.ts';
import { defineTool, type ToolDefinition } from './tool-definition.ts';

export const delegateToolName = 'delegate';

const description =
  'Delegate work to another agent, which runs in its own session thread with its own context, tools and ' +
  'model, and answer with its reply when it has finished. Call it several times in one response to run ' +
  'agents in parallel. To follow up with an agent you delegated to before, pass the session_thread_id its ' +
  'earlier reply named; it remembers everything from its earlier turns.';

export function delegateToolDefinition(agent: AgentSnapshot): ToolDefinition {
  const roster = agent.multiagent?.agents ?? [];
  const names = roster.map((entry) => entry.name);
  const described = roster
    .map((entry) => `- ${entry.name}${entry.description ? `: ${entry.description}` : ''}`)
    .join('\n');
  const message = z.string().min(1).describe('The task or follow-up for the agent: everything it needs to know.');
  const sessionThreadId = z
    .string()
    .optional()
    .describe('A thread started earlier, to continue it; omit to start a new thread.');
  if (!inlineAgentsEnabled(agent)) {
    return defineTool({
      name: delegateToolName,
      description: `${description} Agents:\n${described}`,
      input: z.object({
        agent: z.enum(names.length > 0 ? (names as [string, ...string[]]) : ['']).describe('The agent to delegate to.'),
        message,
        session_thread_id: sessionThreadId,
      }),
    });
  }
  const models = [...inlineAgentModels(agent).keys()].join(', ');
  const tools = inlineAgentToolNames(agent).join(', ') || '(none)';
  return defineTool({
    name: delegateToolName,
    description:
      `${description} Instead of a listed agent you may define one for a new thread with inline_agent (it is not ` +
      `saved): models ${models}; tools chosen from yours: ${tools}. It cannot delegate further.` +
      (described ? ` Agents:\n${described}` : ''),
    input: z.object({
      agent: z
        .string()
        .min(1)
        .optional()
        .describe('A listed agent to delegate to, or the name of the agent whose thread you continue.'),
      inline_agent: inlineAgentInput.optional().describe('An agent you define for a new thread, instead of `agent`.'),
      message,
      session_thread_id: sessionThreadId,
    }),
  });
}

/** A delegation as the tool's schema reads it (either form). */
export interface DelegateInput {
  agent?: string;
  inline_agent?: z.infer<typeof inlineAgentInput>;
  message: string;
  session_thread_id?: string;
}
