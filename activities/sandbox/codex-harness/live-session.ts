// One session's Codex, alive between the workflow's steps: its `codex app-server` process in the sandbox, the thread
// that is the session's conversation, the notifications it has sent and not yet handed over, and the requests
// (approvals, custom tools' calls) it is blocked in until the next step brings the client's answer. Steps of a session reach the same object
// because they run on the sandbox's host queue, in this process; a process that lost it starts Codex again and
// resumes the thread from its rollout file in the workspace.
import type Docker from 'dockerode';
import type { HarnessPause, HarnessStep } from '../../../domain/contracts/claude-harness.ts';
import type { ToolSpec } from '../../../domain/model.ts';
import { runProcess } from '../docker-stream.ts';
import { Channel } from '../harness-channel.ts';
import { AppServerProcess, type ServerMessage } from './app-server.ts';
import { CodexEventMapper, commandOf } from './event-mapper.ts';
import { codexHome, codexThreadFile } from './runtime.ts';

export interface LiveCodexOptions {
  container: Docker.Container;
  containerId: string;
  model: string;
  /** `-c` overrides for the app-server (the gateway as its model provider). */
  config: string[];
  /** `untrusted`: every command not known to be read-only asks (the bash tool is `always_ask`); `never`: none does. */
  approvalPolicy: 'untrusted' | 'never';
  developerInstructions?: string;
  /** The agent's custom tools: offered to Codex as dynamic tools, whose calls the client answers. */
  customTools: ToolSpec[];
  env: Record<string, string>;
}

/** A request of Codex's that waits for the client: an approval of a command, or a custom tool's call. */
interface Waiting {
  requestId: number | string;
  kind: 'approval' | 'custom_tool';
}

/** The answer to a waiting request, from the client's answer (the step). */
function responseTo(waiting: Waiting, step: Exclude<HarnessStep, { kind: 'message' }>): Record<string, unknown> {
  if (waiting.kind === 'approval') {
    return { decision: step.kind === 'confirmation' && step.allow ? 'accept' : 'decline' };
  }
  const text = step.kind === 'custom_tool_result' ? step.text : 'The user did not run this tool.';
  const success = step.kind === 'custom_tool_result' && !step.isError;
  return { contentItems: [{ type: 'inputText', text }], success };
}

/** A custom tool as Codex's `dynamicTools` of a thread take it. */
const dynamicTool = (spec: ToolSpec) => ({
  type: 'function',
  name: spec.name,
  description: spec.description,
  inputSchema: spec.inputSchema,
});

type Item =
  { kind: 'pause'; pause: HarnessPause } | { kind: 'turn_end'; turn: Record<string, unknown> } | { kind: 'closed' };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

async function readThreadId(container: Docker.Container): Promise<string | undefined> {
  const read = await runProcess(container, { argv: ['cat', codexThreadFile], maxBytes: 1024 });
  const id = read.stdout.toString('utf8').trim();
  return read.exitCode === 0 && id !== '' ? id : undefined;
}

export class LiveCodexSession {
  readonly containerId: string;
  readonly mapper: CodexEventMapper;
  private readonly items = new Channel<Item>();
  /** Requests waiting for the client (approvals, custom tool calls), by the session event id they are journaled as. */
  private readonly waiting = new Map<string, Waiting>();
  private server: AppServerProcess | undefined;
  private threadId = '';
  private turnId: string | undefined;
  private interrupted = false;
  /** The client ids of the user messages in the thread as resumed (a retried step's message may be among them). */
  private readonly sentMessageIds = new Set<string>();

  private constructor(options: LiveCodexOptions) {
    this.containerId = options.containerId;
    this.mapper = new CodexEventMapper(options.model);
  }

  /** Starts Codex in the container and opens the session's thread: resumed when the workspace has one. */
  static async start(options: LiveCodexOptions): Promise<LiveCodexSession> {
    const session = new LiveCodexSession(options);
    await runProcess(options.container, { argv: ['mkdir', '-p', codexHome], maxBytes: 1024 });
    const server = await AppServerProcess.start({
      container: options.container,
      config: options.config,
      env: options.env,
      onMessage: (message) => session.receive(message),
      onExit: () => session.items.push({ kind: 'closed' }),
    });
    session.server = server;
    try {
      await server.request('initialize', {
        clientInfo: { name: 'temporal-agents', title: null, version: '1' },
        // The experimental API carries dynamic tools (the agent's custom tools).
        capabilities: { experimentalApi: true, requestAttestation: false },
      });
      server.notify('initialized');
      const settings = {
        cwd: '/workspace',
        approvalPolicy: options.approvalPolicy,
        sandbox: 'danger-full-access', // the container is the sandbox; Codex's own (bubblewrap) cannot run in it
        model: options.model,
        ...(options.developerInstructions ? { developerInstructions: options.developerInstructions } : {}),
      };
      const known = await readThreadId(options.container);
      const resumed = known
        ? await server.request('thread/resume', { threadId: known, ...settings }).catch(() => undefined)
        : undefined;
      // A resumed thread keeps the dynamic tools it was started with (they are in its rollout).
      const dynamicTools = options.customTools.map(dynamicTool);
      const opened =
        resumed ??
        (await server.request('thread/start', { ...settings, ...(dynamicTools.length > 0 ? { dynamicTools } : {}) }));
      const thread = isRecord(opened.thread) ? opened.thread : {};
      session.threadId = typeof thread.id === 'string' ? thread.id : '';
      for (const turn of Array.isArray(thread.turns) ? thread.turns : []) {
        for (const item of isRecord(turn) && Array.isArray(turn.items) ? turn.items : []) {
          if (isRecord(item) && item.type === 'userMessage' && typeof item.clientId === 'string')
            session.sentMessageIds.add(item.clientId);
        }
      }
      if (!resumed) {
        await runProcess(options.container, {
          argv: ['sh', '-c', 'printf %s "$2" > "$1"', 'write-thread-id', codexThreadFile, session.threadId],
          maxBytes: 1024,
        });
      }
    } catch (error) {
      server.close();
      throw error;
    }
    return session;
  }

  get isClosed(): boolean {
    return this.server?.isExited ?? true;
  }

  private receive(message: ServerMessage): void {
    const { method, params, id } = message;
    if (id === undefined) {
      if (method === 'turn/completed' && isRecord(params.turn))
        this.items.push({ kind: 'turn_end', turn: params.turn });
      else this.mapper.push(method, params);
      return;
    }
    if (method === 'item/commandExecution/requestApproval' && typeof params.itemId === 'string') {
      const eventId = this.mapper.eventIdFor(params.itemId);
      this.mapper.markAsked(params.itemId);
      this.waiting.set(eventId, { requestId: id, kind: 'approval' });
      const pause: HarnessPause = {
        kind: 'confirmation',
        eventId,
        name: 'bash',
        input: { command: commandOf(params) },
      };
      this.items.push({ kind: 'pause', pause });
    } else if (method === 'item/tool/call' && typeof params.callId === 'string' && typeof params.tool === 'string') {
      const eventId = this.mapper.eventIdFor(params.callId);
      this.mapper.markAsked(params.callId);
      this.waiting.set(eventId, { requestId: id, kind: 'custom_tool' });
      const input = isRecord(params.arguments) ? params.arguments : {};
      this.items.push({ kind: 'pause', pause: { kind: 'custom_tool', eventId, name: params.tool, input } });
    } else if (method === 'item/fileChange/requestApproval') {
      // Codex's own patch tool is not the platform's edit tool: not offered to the client, so not run.
      this.server?.respond(id, { decision: 'decline' });
    } else {
      this.server?.respondError(id, -32601, `${method} is not supported by the platform's Codex harness`);
    }
  }

  /** Starts a turn with the user's text. */
  async send(text: string, clientUserMessageId?: string): Promise<void> {
    this.interrupted = false;
    const started = await this.server!.request('turn/start', {
      threadId: this.threadId,
      input: [{ type: 'text', text, text_elements: [] }],
      ...(clientUserMessageId ? { clientUserMessageId } : {}),
    });
    const turn = isRecord(started.turn) ? started.turn : {};
    this.turnId = typeof turn.id === 'string' ? turn.id : undefined;
  }

  /** Whether the thread, as resumed, already holds the user message with this client id. */
  holds(clientUserMessageId: string): boolean {
    return this.sentMessageIds.has(clientUserMessageId);
  }

  /** Starts a turn without new input: Codex's model answers the thread as it stands (a retried step's message). */
  async rerun(): Promise<void> {
    this.interrupted = false;
    const started = await this.server!.request('turn/start', { threadId: this.threadId, input: [] });
    const turn = isRecord(started.turn) ? started.turn : {};
    this.turnId = typeof turn.id === 'string' ? turn.id : undefined;
  }

  /** Hands the client's answer to the request waiting for it; false when nothing waits for that event. */
  answer(step: Exclude<HarnessStep, { kind: 'message' }>): boolean {
    const waiting = this.waiting.get(step.eventId);
    this.waiting.delete(step.eventId);
    if (waiting === undefined || !this.server) return false;
    this.server.respond(waiting.requestId, responseTo(waiting, step));
    return true;
  }

  /** Reads Codex's notifications until the turn ends or waits for the client. */
  async untilPause(onProgress: () => void): Promise<HarnessPause> {
    const progress = setInterval(onProgress, 2_000);
    try {
      const item = await this.items.next();
      if (item.kind === 'pause') return item.pause;
      if (item.kind === 'closed') {
        this.mapper.closeRequest(true);
        return { kind: 'end', stop: 'error' };
      }
      return this.turnEnd(item.turn);
    } finally {
      clearInterval(progress);
    }
  }

  private turnEnd(turn: Record<string, unknown>): HarnessPause {
    this.turnId = undefined;
    if (turn.status === 'interrupted' || this.interrupted) {
      this.interrupted = false;
      this.mapper.interruptedRequest();
      return { kind: 'end', stop: 'interrupted' };
    }
    this.mapper.closeRequest(false);
    if (turn.status === 'completed') return { kind: 'end', stop: 'end_turn' };
    const error = isRecord(turn.error) && typeof turn.error.message === 'string' ? `: ${turn.error.message}` : '';
    this.mapper.error(`Codex ended the turn with ${String(turn.status)}${error}`);
    return { kind: 'end', stop: 'error' };
  }

  /** Interrupts the turn in flight (Codex ends it with `turn/completed`, status interrupted, which the step reads). */
  async interrupt(): Promise<void> {
    this.interrupted = true;
    for (const [eventId, waiting] of this.waiting) {
      this.waiting.delete(eventId);
      this.server?.respond(
        waiting.requestId,
        waiting.kind === 'approval'
          ? { decision: 'cancel' }
          : { contentItems: [{ type: 'inputText', text: 'Interrupted by the user.' }], success: false },
      );
    }
    if (this.turnId && this.server) {
      await this.server
        .request('turn/interrupt', { threadId: this.threadId, turnId: this.turnId })
        .catch(() => undefined);
    }
  }

  close(): void {
    this.server?.close();
  }
}
