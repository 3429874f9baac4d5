// The tool calls of a code agent's turn (ctx.runTool, workflows/code-harness.ts), journaled and run as the native
// loop does: a sandbox or backend tool runs at once; an `always_ask` one is announced with `ask` and waits for the
// client's `user.tool_confirmation`; a custom tool is an `agent.custom_tool_use` that waits for the client's
// `user.custom_tool_result`. Calls a handler makes together (Promise.all) wait together: once the calls already
// running have their results, the session idles with `requires_action` naming every open call (./client-wait.ts),
// and an interrupt ends the wait.
import { condition, patched } from '@temporalio/workflow';
import { routeSessionTool } from '../domain/runner-routing.ts';
import { awaitClient } from './client-wait.ts';
import type { CodeTurnHost, ToolResult } from './code-harness.ts';
import type { PendingEntry } from './runner-work.ts';
import { executeTool, type ToolCall } from './tool-execution.ts';
import { announceToolUse, emitToolResult } from './tool-events.ts';

/** Code agents' calls that need the client wait for it (before: refused with an error result). */
export const codeClientToolsPatch = 'code-agent-client-tools';

const interruptedResult: ToolResult = { content: 'The user interrupted before answering.', isError: true };

export class CodeToolCalls {
  private readonly host: CodeTurnHost;
  /** Calls executing now: the wait for the client starts once they have their results (the native loop's order). */
  private running = 0;
  private waiting: Promise<'done' | 'interrupted'> | undefined;

  constructor(host: CodeTurnHost) {
    this.host = host;
  }

  async run(name: string, input: Record<string, unknown>): Promise<ToolResult> {
    const { journal, session } = this.host;
    const { agent, environment } = session.input;
    const route = routeSessionTool(agent, environment, name, []);
    const call: ToolCall = { eventId: journal.newId(), name, input, route };
    const local = route.kind === 'sandbox' || route.kind === 'backend';
    const asks = route.kind === 'custom' || (local && route.policy === 'always_ask');
    if (asks && patched(codeClientToolsPatch)) return this.ask(call);
    const runnable = local && route.policy !== 'always_ask';
    announceToolUse(journal, call, runnable ? 'allow' : 'deny');
    if (runnable) return this.execute(call);
    const content =
      route.kind === 'unknown'
        ? `There is no tool named "${name}".`
        : `The tool "${name}" cannot be run by a code agent (not its MCP or self-hosted runner tools).`;
    emitToolResult(journal, call, content, true);
    return { content, isError: true };
  }

  private async execute(call: ToolCall): Promise<ToolResult> {
    const { session, journal } = this.host;
    this.running++;
    session.stats.toolCalls++;
    const outcome = await executeTool(call, session.input, session.sandbox, session.threads);
    emitToolResult(journal, call, outcome.content, outcome.isError);
    this.running--;
    return { content: outcome.content, isError: outcome.isError };
  }

  /** Announces a call the client must answer, waits for the answer, and runs, denies or returns it. */
  private async ask(call: ToolCall): Promise<ToolResult> {
    const { journal, session } = this.host;
    const custom = call.route.kind === 'custom';
    if (custom) journal.emit({ type: 'agent.custom_tool_use', id: call.eventId, name: call.name, input: call.input });
    else announceToolUse(journal, call, 'ask');
    const kind = custom ? 'custom_tool_result' : 'confirmation';
    const entry: PendingEntry = { eventId: call.eventId, kind, name: call.name, call };
    session.pending.set(call.eventId, entry);
    this.waiting ??= this.waitForClient();
    if ((await this.waiting) === 'interrupted' || !entry.resolution) return interruptedResult;
    const resolution = entry.resolution;
    if ('custom' in resolution) return { content: resolution.text, isError: resolution.isError };
    if (resolution.allow) return this.execute(call);
    const message = resolution.denyMessage ?? 'The user denied this tool call.';
    emitToolResult(journal, call, message, true);
    return { content: message, isError: true };
  }

  private async waitForClient(): Promise<'done' | 'interrupted'> {
    await condition(() => this.running === 0);
    const outcome = await awaitClient(this.host);
    this.host.session.pending.clear();
    this.waiting = undefined;
    return outcome;
  }
}
