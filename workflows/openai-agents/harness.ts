// The `openai_agents` harness (AgentHarness in domain/agent.ts): each turn is run by the OpenAI Agents SDK's Runner
// inside the session workflow, in the spirit of Temporal's OpenAI Agents integration — the Runner's loop is workflow
// code (deterministic, replayed), its model is the platform's model activity (./activity-model.ts), its tools run
// through the platform's routes (./tool-call-book.ts), and approvals are the SDK's interruptions answered by the
// platform's confirmation events. The session's statuses, interrupts, journal, usage and trace are the native loop's.
import { Agent, MaxTurnsExceededError, Runner, type RunState } from '@openai/agents-core';
import { defaultLimits } from '../../domain/agent.ts';
import type { StopReason, ThreadMessageReceivedEvent, UserMessageEvent } from '../../domain/events.ts';
import { sessionToolSpecs } from '../../domain/runner-routing.ts';
import { sessionSystemPrompt } from '../../domain/system-prompt.ts';
import { awaitClient } from '../client-wait.ts';
import type { TurnAnswer } from '../outcome.ts';
import { emitLimitError } from '../tool-events.ts';
import { ActivityModel, TurnEnded } from './activity-model.ts';
import type { OpenAiAgentsHost } from './host.ts';
import { ToolCallBook } from './tool-call-book.ts';

export async function runOpenAiAgentsTurn(
  host: OpenAiAgentsHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
): Promise<TurnAnswer> {
  const { input } = host.session;
  const book = new ToolCallBook(host);
  const model = new ActivityModel(host, book);
  const specs = await host.session.mcp.toolSpecs(sessionToolSpecs(input.agent, input.environment));
  const agent = new Agent({
    name: input.agent.name,
    instructions: sessionSystemPrompt(input, input.agent) ?? '',
    model,
    tools: book.tools(specs),
  });
  const maxTurns = input.agent.limits?.max_turns ?? defaultLimits.max_turns;
  const runner = new Runner({ tracingDisabled: true });
  const text = (message?.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('');
  let next: string | RunState<unknown, never> = text || 'Continue.';
  try {
    for (;;) {
      const result = await runner.run(agent, next, { maxTurns });
      if (result.interruptions.length === 0) return { text: model.lastText, stop: { type: 'end_turn' } };
      if ((await awaitClient(host)) === 'interrupted') return { text: model.lastText, stop: { type: 'end_turn' } };
      book.settle(result.state as RunState<unknown, never>, result.interruptions);
      next = result.state as RunState<unknown, never>;
    }
  } catch (error) {
    return { text: model.lastText, stop: stopOf(host, error, maxTurns) };
  }
}

/** How a Runner that threw ends the turn: the platform's reason, the SDK's turn limit, or an error event. */
function stopOf(host: OpenAiAgentsHost, error: unknown, maxTurns: number): StopReason {
  const ended = findCause(error, (cause): cause is TurnEnded => cause instanceof TurnEnded);
  if (ended) return ended.stop ?? { type: 'end_turn' };
  if (findCause(error, (cause) => cause instanceof MaxTurnsExceededError)) {
    emitLimitError(
      host.journal,
      'tool_use_limit_reached_error',
      `The agent reached its limit of ${maxTurns} model calls per turn.`,
    );
    return { type: 'retries_exhausted' };
  }
  const message = error instanceof Error ? error.message : String(error);
  host.journal.emit({
    type: 'session.error',
    error: {
      type: 'openai_agents_error',
      message: `The OpenAI Agents SDK run failed: ${message}`,
      retry_status: { type: 'exhausted' },
    },
  });
  return { type: 'retries_exhausted' };
}

function findCause<T>(error: unknown, match: (cause: unknown) => cause is T): T | undefined;
function findCause(error: unknown, match: (cause: unknown) => boolean): unknown;
function findCause(error: unknown, match: (cause: unknown) => boolean): unknown {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if (match(cause)) return cause;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return undefined;
}
