// The turns of agents whose harness is not the native loop (AgentHarness in domain/agent.ts): the session runtime asks
// here whether another harness runs the turn, and hands it over with the same host (journal, status, usage, tools).
import type { ThreadMessageReceivedEvent, UserMessageEvent } from '../domain/events.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import { isClaudeTurn, runClaudeTurn, type ClaudeTurnHost } from './claude-harness.ts';
import { isCodeTurn, runCodeTurn, type CodeTurnHost } from './code-harness.ts';
import { isCodexTurn, runCodexTurn } from './codex-harness.ts';
import type { OpenAiAgentsHost } from './openai-agents/host.ts';
import { isOpenAiAgentsTurn } from './openai-agents/selection.ts';
import type { TurnAnswer } from './outcome.ts';

/** True when a harness other than the native loop runs this session's turns (patched per harness). */
export const isHarnessTurn = (input: SessionWorkflowInput): boolean =>
  isCodeTurn(input) || isOpenAiAgentsTurn(input) || isClaudeTurn(input) || isCodexTurn(input);

export function runHarnessTurn(
  host: CodeTurnHost & OpenAiAgentsHost & ClaudeTurnHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
): Promise<TurnAnswer> {
  // Not async: a code agent's turn starts in the same tick as before this module existed (its recorded commands).
  const type = host.session.input.agent.harness?.type;
  if (type === 'claude_agent_sdk') return runClaudeTurn(host, message);
  if (type === 'codex') return runCodexTurn(host, message);
  if (type !== 'openai_agents') return runCodeTurn(host, message);
  // Loaded on first use: the bundle holds the SDK eagerly (workers/workflow-bundler.ts), but only sessions that run
  // it evaluate its modules — a native session's workflow pays nothing for it.
  return import('./openai-agents/harness.ts').then(({ runOpenAiAgentsTurn }) => runOpenAiAgentsTurn(host, message));
}
