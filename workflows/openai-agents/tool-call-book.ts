// The tool calls of an openai_agents turn: each call the model makes is announced in the session's log exactly as the
// native loop does (agent.tool_use allow/ask, agent.mcp_tool_use, agent.custom_tool_use; an unknown tool is denied
// with an error result), and the platform's tools are offered to the SDK as function tools that run through the
// platform's routes (sandbox, backend, MCP, threads, sub-agents). A call that needs the client — an `always_ask`
// confirmation, an MCP `ask`, a custom tool — is one the SDK must get approved: the Runner stops with interruptions,
// the harness waits for the client's answer (the session's pending actions) and approves or rejects them.
import { tool, type Tool, type RunState, type RunToolApprovalItem } from '@openai/agents-core';
import type { JsonObjectSchemaNonStrict } from '@openai/agents-core/types';
import type { ToolSpec, ToolUseBlock } from '../../domain/model.ts';
import { routeSessionTool } from '../../domain/runner-routing.ts';
import { executeTool, type ToolCall } from '../tool-execution.ts';
import { announceToolUse, emitToolResult } from '../tool-events.ts';
import type { OpenAiAgentsHost } from './host.ts';

/** What the SDK sees of a custom tool's result; the model reads the client's own `user.custom_tool_result`. */
const customToolOutput = '(answered by the client)';

export class ToolCallBook {
  private readonly calls = new Map<string, ToolCall>();
  /** Calls that waited for the client: the SDK keeps consulting its approval record for them. */
  private readonly asked = new Set<string>();

  private readonly host: OpenAiAgentsHost;

  constructor(host: OpenAiAgentsHost) {
    this.host = host;
  }

  /** Journals the model's calls; returns those the SDK should see (its call id is the tool_use event id). */
  announce(uses: ToolUseBlock[]): Array<{ callId: string; name: string; input: Record<string, unknown> }> {
    const { journal, session } = this.host;
    const { agent, environment } = session.input;
    const visible: Array<{ callId: string; name: string; input: Record<string, unknown> }> = [];
    for (const use of uses) {
      const route = routeSessionTool(agent, environment, use.name, session.mcp.entries);
      const call: ToolCall = { eventId: journal.newId(), name: use.name, input: use.input, route };
      if (route.kind === 'unknown' || route.kind === 'runner') {
        announceToolUse(journal, call, 'deny');
        const reason = route.kind === 'unknown' ? 'There is no tool named' : 'The openai_agents harness cannot run';
        emitToolResult(journal, call, `${reason} "${call.name}".`, true);
        continue;
      }
      let waits: 'confirmation' | 'custom_tool_result' | undefined;
      if (route.kind === 'custom') {
        journal.emit({ type: 'agent.custom_tool_use', id: call.eventId, name: call.name, input: call.input });
        waits = 'custom_tool_result';
      } else if (route.kind === 'mcp') {
        if (session.mcp.announce(call, route.entry) === 'ask') waits = 'confirmation';
      } else if (route.policy === 'always_ask') {
        announceToolUse(journal, call, 'ask');
        waits = 'confirmation';
      } else announceToolUse(journal, call, 'allow');
      if (waits) {
        session.pending.set(call.eventId, { eventId: call.eventId, kind: waits, name: call.name, call });
        this.asked.add(call.eventId);
      }
      this.calls.set(call.eventId, call);
      visible.push({ callId: call.eventId, name: call.name, input: call.input });
    }
    return visible;
  }

  /** The session's tools as the SDK's function tools (JSON schema, not strict: the platform validates input). */
  tools(specs: ToolSpec[]): Tool[] {
    return specs.map((spec) =>
      tool({
        name: spec.name,
        description: spec.description,
        parameters: { properties: {}, additionalProperties: true, ...spec.inputSchema } as JsonObjectSchemaNonStrict<
          Record<string, never>
        >,
        strict: false,
        needsApproval: (_context, _input, callId) => Promise.resolve(callId !== undefined && this.asked.has(callId)),
        execute: (_input, _context, details) => this.run(details?.toolCall?.callId),
      }),
    );
  }

  /** Applies the client's answers to the Runner's interruptions; a denial is journaled as the native loop does. */
  settle(state: RunState<unknown, never>, interruptions: RunToolApprovalItem[]): void {
    const { journal, session } = this.host;
    for (const item of interruptions) {
      const callId = 'callId' in item.rawItem ? item.rawItem.callId : undefined;
      const entry = callId ? session.pending.get(callId) : undefined;
      const resolution = entry?.resolution;
      if (!entry || !resolution || 'custom' in resolution || resolution.allow) {
        state.approve(item);
        continue;
      }
      const message = resolution.denyMessage ?? 'The user denied this tool call.';
      state.reject(item, { message });
      emitToolResult(journal, entry.call, message, true);
    }
    session.pending.clear();
  }

  private async run(callId: string | undefined): Promise<string> {
    const call = callId ? this.calls.get(callId) : undefined;
    if (!call) return 'The platform has no record of this tool call.';
    const { route } = call;
    if (route.kind === 'custom') return customToolOutput;
    const { input, sandbox, threads, mcp, stats, advisorHost } = this.host.session;
    stats.toolCalls++;
    const outcome =
      route.kind === 'mcp'
        ? await mcp.run(call, route.entry)
        : await executeTool(call, input, sandbox, threads, advisorHost);
    emitToolResult(this.host.journal, call, outcome.content, outcome.isError);
    return outcome.content;
  }
}
