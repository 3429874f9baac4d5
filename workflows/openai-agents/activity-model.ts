// The OpenAI Agents SDK's `Model` for the openai_agents harness: each getResponse is the platform's model call (the
// `invokeModel` activity on the model queue, with its retries, `span.model_request_*` events, deltas and metering),
// as in Temporal's Python integration where the Runner's model is replaced by one whose calls are activities. The
// request's system instructions and tools come from the SDK; the transcript the activity sends is the session's log,
// which holds every item the Runner holds (messages, tool calls and results are journaled as they happen) — so
// history stays linear in the content instead of carrying the whole transcript in each activity input.
import { Usage, type Model, type ModelRequest, type ModelResponse as AgentsModelResponse } from '@openai/agents-core';
import { budgetSpent } from '../../domain/budget.ts';
import type { StopReason } from '../../domain/events.ts';
import type { ModelResponse, ToolSpec, ToolUseBlock } from '../../domain/model.ts';
import { sideCallOf } from '../compaction.ts';
import { callModel } from '../model-call.ts';
import type { OpenAiAgentsHost } from './host.ts';
import type { ToolCallBook } from './tool-call-book.ts';

/** Thrown out of the Runner when the platform ended the turn during a model call (the reason is on the model). */
export class TurnEnded extends Error {
  readonly stop: StopReason | undefined;

  constructor(stop: StopReason | undefined) {
    super('the turn ended during a model call');
    this.name = 'TurnEnded';
    this.stop = stop;
  }
}

export class ActivityModel implements Model {
  /** The text of the last reply, the turn's answer. */
  lastText = '';

  private readonly host: OpenAiAgentsHost;
  private readonly calls: ToolCallBook;

  constructor(host: OpenAiAgentsHost, calls: ToolCallBook) {
    this.host = host;
    this.calls = calls;
  }

  async getResponse(request: ModelRequest): Promise<AgentsModelResponse> {
    const { host } = this;
    const { input, stats } = host.session;
    if (host.interrupted()) throw new TurnEnded(undefined);
    if (budgetSpent(input.agent.limits, input.budget, host.session.usage))
      throw new TurnEnded({ type: 'budget_reached' });
    const outcome = await callModel(
      host,
      { ...sideCallOf(input), system: request.systemInstructions || undefined, tools: toolSpecsOf(request) },
      `${input.agent.model.id} turn ${stats.turns} (openai_agents)`,
    );
    if (outcome.kind === 'exhausted' || outcome.kind === 'rejected') throw new TurnEnded({ type: 'retries_exhausted' });
    if (outcome.kind === 'budget') throw new TurnEnded({ type: 'budget_reached' });
    if (outcome.kind !== 'response') throw new TurnEnded(undefined);
    stats.modelCalls++;
    host.addUsage(outcome.response.usage);
    const text = outcome.response.content.flatMap((block) => (block.type === 'text' ? [block] : []));
    if (text.length > 0) {
      host.journal.emit({ type: 'agent.message', id: outcome.messageEventId, content: text });
      this.lastText = text.map((block) => block.text).join('');
    }
    const uses = outcome.response.content.filter((block): block is ToolUseBlock => block.type === 'tool_use');
    return toAgentsResponse(outcome.response, this.calls.announce(uses));
  }

  getStreamedResponse(): AsyncIterable<never> {
    throw new Error('the openai_agents harness runs the SDK non-streamed (deltas come from the model activity)');
  }
}

/** The SDK's serialized function tools, back in the platform's tool spec shape. */
function toolSpecsOf(request: ModelRequest): ToolSpec[] {
  return request.tools.flatMap((tool) =>
    tool.type === 'function'
      ? [{ name: tool.name, description: tool.description, inputSchema: tool.parameters as ToolSpec['inputSchema'] }]
      : [],
  );
}

/** The reply as the SDK's output items; tool calls carry their `agent.tool_use` event id as the call id. */
function toAgentsResponse(
  response: ModelResponse,
  calls: Array<{ callId: string; name: string; input: Record<string, unknown> }>,
): AgentsModelResponse {
  const text = response.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
  const { inputTokens, outputTokens } = response.usage;
  return {
    usage: new Usage({ requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }),
    output: [
      ...(text
        ? [
            {
              type: 'message' as const,
              role: 'assistant' as const,
              status: 'completed' as const,
              content: [{ type: 'output_text' as const, text }],
            },
          ]
        : []),
      ...calls.map(({ callId, name, input }) => ({
        type: 'function_call' as const,
        callId,
        name,
        arguments: JSON.stringify(input),
        status: 'completed' as const,
      })),
    ],
  };
}
