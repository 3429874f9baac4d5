// The `code` harness (AgentHarness in domain/agent.ts): each turn is handed to the handler an operator registered with
// defineAgent (sdk/agent.ts). The session workflow of such an agent runs in the operator's worker (it polls the
// harness's task_queue), so the handler is workflow code there — deterministic, replayed like the native loop — and
// reaches the platform only through its context: model calls and tools are the platform's activities on the
// platform's queues, and every event goes to the session's journal (session_events), so the events API, the stream,
// usage and the trace see a code agent's session like any other.
import { patched } from '@temporalio/workflow';
import type { ToolUseBlock, ModelUsage, ToolSpec } from '../domain/model.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import type { StopReason, ThreadMessageReceivedEvent, UserMessageEvent } from '../domain/events.ts';
import { sessionToolSpecs } from '../domain/runner-routing.ts';
import { sessionSystemPrompt } from '../domain/system-prompt.ts';
import { sideCallOf } from './compaction.ts';
import type { EventJournal } from './event-journal.ts';
import { CodeToolCalls } from './code-tool-calls.ts';
import { callModel, type ModelCallContext } from './model-call.ts';
import type { TurnAnswer } from './outcome.ts';
import type { SessionRuntime } from './session-runtime.ts';

/** Sessions of code-defined agents (none existed before it) hand their turns to the operator's handler. */
export const codeHarnessPatch = 'code-agent-harness';

export interface ModelReply {
  /** The reply's text, already journaled as an `agent.message`. */
  text: string;
  /** Tool calls the model asked for; the handler decides which to run (ctx.runTool). */
  toolUses: Array<{ name: string; input: Record<string, unknown> }>;
  stopReason: string;
}

export interface ToolResult {
  content: string;
  isError: boolean;
}

/** What a handler gets for one turn. */
export interface CodeAgentContext {
  readonly sessionId: string;
  /** The text of the user message that started the turn ('' for a turn without one). */
  readonly message: string;
  /** The session's turn number, from 1. */
  readonly turn: number;
  /**
   * One model call on the session's transcript (every event so far) with the agent's model, system prompt and tools
   * unless given; the reply's text is journaled as `agent.message`. Undefined when the call ended the turn (an
   * interrupt, a rejected request, retries exhausted, the budget): the handler should return.
   */
  callModel(options?: { system?: string; tools?: ToolSpec[] }): Promise<ModelReply | undefined>;
  /**
   * Runs one of the agent's tools as the native loop does (workflows/code-tool-calls.ts): a sandbox or backend tool
   * at once (`agent.tool_use` + `agent.tool_result`); an `always_ask` one after the client's `user.tool_confirmation`
   * (a denial is an error result with its message); a custom tool is an `agent.custom_tool_use` whose result is the
   * client's `user.custom_tool_result`. While the client is awaited the session idles with `requires_action`; calls
   * made together (Promise.all) are awaited together. An interrupt while waiting: an error result, and
   * ctx.interrupted() is true. MCP and self-hosted runner tools are not offered to code agents: an error result.
   */
  runTool(name: string, input: Record<string, unknown>): Promise<ToolResult>;
  /** Journals an `agent.message` with this text. */
  emit(text: string): void;
  /** True once the user interrupted (or the session is ending): the handler should return. */
  interrupted(): boolean;
}

export type CodeAgentHandler = (ctx: CodeAgentContext) => Promise<void>;

export interface CodeAgentDefinition {
  name: string;
  handler: CodeAgentHandler;
}

const registry = new Map<string, CodeAgentDefinition>();

/** Called at module load by defineAgent: the registry is the same in every run of the bundle (deterministic). */
export function registerCodeAgent(definition: CodeAgentDefinition): void {
  if (registry.has(definition.name)) throw new Error(`code agent ${definition.name} is defined twice`);
  registry.set(definition.name, definition);
}

/** True for a code agent's session (marking new histories; old ones never take this branch). */
export const isCodeTurn = (input: SessionWorkflowInput): boolean =>
  input.agent.harness?.type === 'code' && patched(codeHarnessPatch);

export interface CodeTurnHost extends ModelCallContext {
  journal: EventJournal;
  addUsage(usage: ModelUsage): void;
  /** The session's input, sandbox lease, counters, threads and the actions awaiting the client. */
  session: Pick<SessionRuntime, 'input' | 'sandbox' | 'stats' | 'threads' | 'pending'>;
}

/** One turn of a code agent: the handler runs; a throw becomes a session.error, the turn ends either way. */
export async function runCodeTurn(
  host: CodeTurnHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
): Promise<TurnAnswer> {
  const harness = host.session.input.agent.harness;
  const definition = harness?.type === 'code' ? registry.get(harness.name) : undefined;
  if (!definition) {
    emitError(host, `No code agent named "${harness?.type === 'code' ? harness.name : ''}" in this worker.`);
    return { text: '', stop: { type: 'retries_exhausted' } };
  }
  let lastText = '';
  let stop: StopReason = { type: 'end_turn' };
  const tools = new CodeToolCalls(host);
  const ctx: CodeAgentContext = {
    sessionId: host.session.input.sessionId,
    message: (message?.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join(''),
    turn: host.session.stats.turns,
    callModel: async (options) => {
      const reply = await modelCall(host, options);
      if (reply.kind === 'stop') stop = reply.stop;
      if (reply.kind !== 'reply') return undefined;
      if (reply.reply.text) lastText = reply.reply.text;
      return reply.reply;
    },
    runTool: (name, input) => tools.run(name, input),
    emit: (text) => {
      host.journal.emit({ type: 'agent.message', content: [{ type: 'text', text }] });
      lastText = text;
    },
    interrupted: host.interrupted,
  };
  try {
    await definition.handler(ctx);
  } catch (error) {
    emitError(host, `The code agent failed: ${error instanceof Error ? error.message : String(error)}`);
    stop = { type: 'retries_exhausted' };
  }
  return { text: lastText, stop };
}

type CallResult = { kind: 'reply'; reply: ModelReply } | { kind: 'stop'; stop: StopReason } | { kind: 'ended' };

async function modelCall(
  host: CodeTurnHost,
  options: { system?: string; tools?: ToolSpec[] } = {},
): Promise<CallResult> {
  const { input } = host.session;
  if (host.interrupted()) return { kind: 'ended' };
  const outcome = await callModel(
    host,
    {
      ...sideCallOf(input),
      system: options.system ?? sessionSystemPrompt(input, input.agent),
      tools: options.tools ?? sessionToolSpecs(input.agent, input.environment),
    },
    `${input.agent.model.id} turn ${host.session.stats.turns} (code)`,
  );
  if (outcome.kind === 'exhausted' || outcome.kind === 'rejected') {
    return { kind: 'stop', stop: { type: 'retries_exhausted' } };
  }
  if (outcome.kind === 'budget') return { kind: 'stop', stop: { type: 'budget_reached' } };
  if (outcome.kind !== 'response') return { kind: 'ended' };
  host.session.stats.modelCalls++;
  host.addUsage(outcome.response.usage);
  const content = outcome.response.content;
  const text = content.flatMap((block) => (block.type === 'text' ? [block] : []));
  if (text.length > 0) host.journal.emit({ type: 'agent.message', id: outcome.messageEventId, content: text });
  const toolUses = content
    .filter((block): block is ToolUseBlock => block.type === 'tool_use')
    .map(({ name, input: toolInput }) => ({ name, input: toolInput }));
  const reply = { text: text.map((block) => block.text).join(''), toolUses, stopReason: outcome.response.stopReason };
  return { kind: 'reply', reply };
}

function emitError(host: CodeTurnHost, message: string): void {
  host.journal.emit({
    type: 'session.error',
    error: { type: 'code_agent_error', message, retry_status: { type: 'exhausted' } },
  });
}
