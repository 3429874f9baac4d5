// One session's Claude Code, alive between the workflow's steps: the SDK's query in streaming-input mode (its process
// runs in the sandbox), the messages it has produced and not yet handed over, and the callbacks it is blocked in —
// a permission request (canUseTool) of an `always_ask` tool, or a custom tool's handler — until the next step
// brings the client's answer. Steps of a session reach the same object because they run on the sandbox's host queue,
// in this process; a process that lost it starts Claude Code again on the session's transcript (`resume`).
import {
  createSdkMcpServer,
  query,
  tool,
  type CanUseTool,
  type HookCallback,
  type PermissionResult,
  type Query,
  type SDKMessage,
  type SDKUserMessage,
} from '@anthropic-ai/claude-agent-sdk';
import type Docker from 'dockerode';
import { z } from 'zod';
import type { HarnessPause, HarnessTool } from '../../../domain/contracts/claude-harness.ts';
import type { ToolSpec } from '../../../domain/model.ts';
import { Channel } from '../harness-channel.ts';
import { spawnInContainer } from './container-process.ts';
import { ClaudeEventMapper, type ToolView } from './event-mapper.ts';
import { claudeExecutable } from './runtime.ts';

/** The platform's sandbox tools as Claude Code names them. */
const claudeToolNames: Record<string, string> = {
  bash: 'Bash',
  read: 'Read',
  write: 'Write',
  edit: 'Edit',
  glob: 'Glob',
  grep: 'Grep',
};
const customServer = 'platform';
const customPrefix = `mcp__${customServer}__`;

type Item = { kind: 'message'; message: SDKMessage } | { kind: 'pause'; pause: HarnessPause } | { kind: 'closed' };

export interface LiveSessionOptions {
  container: Docker.Container;
  containerId: string;
  model: string;
  /** Claude Code's session id (a UUID derived from the platform's session id). */
  claudeSessionId: string;
  /** Resume the transcript the workspace holds, instead of starting it. */
  resume: boolean;
  systemPrompt?: string;
  tools: HarnessTool[];
  customTools: ToolSpec[];
  /** Claude Code's environment (the gateway URL and the session token among it); the container adds its own. */
  env: Record<string, string>;
}

export class LiveClaudeSession {
  readonly containerId: string;
  readonly mapper: ClaudeEventMapper;
  private readonly input = new Channel<SDKUserMessage>();
  private readonly items = new Channel<Item>();
  private readonly query: Query;
  private readonly waiting = new Map<string, (answer: PermissionResult | { text: string; isError: boolean }) => void>();
  private readonly policies: Map<string, HarnessTool>;
  private closed = false;

  constructor(options: LiveSessionOptions) {
    this.containerId = options.containerId;
    this.policies = new Map(options.tools.map((entry) => [claudeToolNames[entry.name] ?? entry.name, entry]));
    this.mapper = new ClaudeEventMapper(options.model, (name) => this.toolView(name));
    this.query = query({
      prompt: this.input,
      options: {
        model: options.model,
        cwd: '/workspace',
        pathToClaudeCodeExecutable: claudeExecutable,
        spawnClaudeCodeProcess: (spawn) => spawnInContainer(options.container, claudeExecutable, spawn),
        env: options.env,
        ...(options.resume ? { resume: options.claudeSessionId } : { sessionId: options.claudeSessionId }),
        // A fixed title: Claude Code would otherwise spend a model request naming the session.
        title: options.claudeSessionId,
        tools: [...this.policies.keys()],
        ...(options.systemPrompt ? { systemPrompt: options.systemPrompt } : {}),
        includePartialMessages: true,
        settingSources: [],
        permissionMode: 'default',
        canUseTool: this.canUseTool,
        hooks: { PreToolUse: [{ hooks: [this.preToolUse] }] },
        ...(options.customTools.length > 0 ? { mcpServers: { [customServer]: this.customServer(options) } } : {}),
      },
    });
    void this.read();
  }

  private toolView(claudeName: string): ToolView {
    if (claudeName.startsWith(customPrefix)) {
      return { name: claudeName.slice(customPrefix.length), journaledByWorkflow: true, custom: true };
    }
    const entry = this.policies.get(claudeName);
    const name = entry?.name ?? claudeName;
    return { name, journaledByWorkflow: entry?.policy === 'always_ask', custom: false };
  }

  private async read(): Promise<void> {
    try {
      for await (const message of this.query) {
        // Mapped as read, so a custom tool's handler finds its call; the step's reader only watches for the end.
        this.mapper.push(message);
        this.items.push({ kind: 'message', message });
      }
    } catch {
      // The process went away (container removed, worker stopping): the next step starts it again.
    }
    this.closed = true;
    this.items.push({ kind: 'closed' });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The platform's policy decides, not Claude Code's rules: `always_ask` tools go to canUseTool, others run. */
  private readonly preToolUse: HookCallback = async (input) => {
    const name = (input as { tool_name?: string }).tool_name ?? '';
    const ask = this.policies.get(name)?.policy === 'always_ask';
    return {
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: ask ? 'ask' : 'allow' },
    };
  };

  /** The confirmation flow: the step ends with the request; the next step brings the user's answer. */
  private readonly canUseTool: CanUseTool = async (name, input, options) => {
    if (this.policies.get(name)?.policy !== 'always_ask') return { behavior: 'allow', updatedInput: input };
    const eventId = this.mapper.eventIdFor(options.toolUseID);
    const answer = this.wait(eventId, { kind: 'confirmation', eventId, name: this.toolView(name).name, input });
    return (await answer) as PermissionResult;
  };

  private customServer(options: LiveSessionOptions) {
    return createSdkMcpServer({
      name: customServer,
      tools: options.customTools.map((spec) => {
        const schema = z.fromJSONSchema(spec.inputSchema);
        const shape = schema instanceof z.ZodObject ? schema.shape : {};
        return tool(
          spec.name,
          spec.description,
          shape,
          async (args) => {
            const call = await this.openCall(`${customPrefix}${spec.name}`);
            const eventId = this.mapper.eventIdFor(call?.id ?? `custom-${spec.name}`);
            const input = call?.input ?? args;
            const answer = (await this.wait(eventId, { kind: 'custom_tool', eventId, name: spec.name, input })) as {
              text: string;
              isError: boolean;
            };
            return { content: [{ type: 'text' as const, text: answer.text }], isError: answer.isError };
          },
          { alwaysLoad: true },
        );
      }),
    });
  }

  /** The model's call of a custom tool (its message may be a moment behind the handler's invocation). */
  private async openCall(claudeName: string) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const call = this.mapper.openCallOf(claudeName);
      if (call) return call;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  private wait(eventId: string, pause: HarnessPause): Promise<unknown> {
    return new Promise((resolve) => {
      this.waiting.set(eventId, resolve);
      this.items.push({ kind: 'pause', pause });
    });
  }

  /** Sends a user message; `uuid` becomes its id in the transcript (the stream-json protocol takes it). */
  send(text: string, uuid?: SDKUserMessage['uuid']): void {
    const message: SDKUserMessage = {
      type: 'user',
      message: { role: 'user', content: text },
      parent_tool_use_id: null,
      origin: { kind: 'human' },
      ...(uuid ? { uuid } : {}),
    };
    this.input.push(message);
  }

  /** Hands the client's answer to the callback waiting for it; false when nothing waits for that event. */
  answer(eventId: string, answer: PermissionResult | { text: string; isError: boolean }): boolean {
    const resolve = this.waiting.get(eventId);
    this.waiting.delete(eventId);
    resolve?.(answer);
    return resolve !== undefined;
  }

  /**
   * Reads Claude Code's messages until the turn ends or waits for the client. A pause that arrives inside a model
   * request is held until the request ends, so its span and reply come first.
   */
  async untilPause(onProgress: () => void): Promise<HarnessPause> {
    let held: HarnessPause | undefined;
    const progress = setInterval(onProgress, 2_000);
    try {
      for (;;) {
        if (held && !this.mapper.inRequest) return held;
        const item = await this.items.next();
        if (item.kind === 'pause') held = item.pause;
        else if (item.kind === 'closed') {
          this.mapper.closeRequest(true);
          return { kind: 'end', stop: 'error' };
        } else {
          const stop = this.resultOf(item.message);
          if (stop) return stop;
        }
      }
    } finally {
      clearInterval(progress);
    }
  }

  private interrupted = false;

  private resultOf(message: SDKMessage): HarnessPause | undefined {
    if (message.type !== 'result') return undefined;
    this.mapper.closeRequest(true);
    if (this.interrupted) {
      this.interrupted = false;
      return { kind: 'end', stop: 'interrupted' };
    }
    if (message.subtype === 'success' && !message.is_error) return { kind: 'end', stop: 'end_turn' };
    const detail = 'errors' in message && Array.isArray(message.errors) ? message.errors.join('; ') : '';
    const text = 'result' in message && typeof message.result === 'string' ? message.result : '';
    this.mapper.error(
      `Claude Code ended the turn with ${message.subtype}${detail || text ? `: ${detail || text}` : ''}`,
    );
    return { kind: 'end', stop: 'error' };
  }

  /** Interrupts the turn in flight (Claude Code ends it with a result the running step reads). */
  async interrupt(): Promise<void> {
    this.interrupted = true;
    for (const [eventId, resolve] of this.waiting) {
      this.waiting.delete(eventId);
      // One answer for either kind of wait: a permission request reads `behavior`, a custom tool `text`.
      resolve({
        behavior: 'deny',
        message: 'The user interrupted.',
        interrupt: true,
        text: 'The user interrupted.',
        isError: true,
      });
    }
    await this.query.interrupt().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.query.close();
  }
}
