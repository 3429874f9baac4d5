// The agent loop's state and its main loop. User events queue in arrival order; an interrupt jumps the queue and
// cancels the model call in flight; approvals and custom tool results resolve pending actions. Each turn: model call →
// tool calls (run, or wait for the client) → model call … until the model stops, the client must act, or a limit hits.
import { type CancellationScope, condition } from '@temporalio/workflow';
import { defaultLimits } from '../domain/agent.ts';
import { budgetSpent, usageSnapshot } from '../domain/budget.ts';
import {
  refusalDetails,
  type RefusalStopDetails,
  type StopReason,
  type UserEvent,
  type UserMessageEvent,
} from '../domain/events.ts';
import { addModelUsage, emptyModelUsage, type ModelUsage, type ToolUseBlock } from '../domain/model.ts';
import type {
  PendingAction,
  QueuedEvent,
  SessionStateView,
  SessionStats,
  SessionWorkflowInput,
  SubAgentResult,
} from '../domain/session.ts';
import { sessionToolSpecs } from '../domain/runner-routing.ts';
import { sessionSystemPrompt } from '../domain/system-prompt.ts';
import { isHarnessTurn, runHarnessTurn } from './harness-turns.ts';
import { EventIdMemory } from './event-id-memory.ts';
import { EventJournal } from './event-journal.ts';
import type { IncomingUserEvent, SessionUpdateNotice } from './messages.ts';
import { McpSessionTools } from './mcp-session.ts';
import { ContextCompactor, sideCallOf } from './compaction.ts';
import { callModel } from './model-call.ts';
import { queuedTypes, takeUp, type OutcomeHost, type TurnAnswer } from './outcome.ts';
import { SandboxLeaseManager } from './sandbox-lease.ts';
import { continueAsNewDue, continueSessionAsNew, type CarrySources } from './session-continue-as-new.ts';
import { SessionStatusTracker } from './session-status.ts';
import { handConfirmedCallsToRunner, resolutionOf, RunnerWork, type PendingEntry } from './runner-work.ts';
import type { AdvisorHost } from './advisor.ts';
import { executeTool, type ToolCall } from './tool-execution.ts';
import { emitLimitError, emitToolResult } from './tool-events.ts';
import { announceToolCalls } from './tool-announcement.ts';
import { ThreadRole, type ThreadMessageEvent } from './thread-role.ts';
import { SessionThreads } from './threads.ts';
import { WorkflowRuns } from './workflow-runs.ts';
import { answerOf, logStrayAnswer, validateUserEvents } from './user-event-validation.ts';

export class SessionRuntime {
  readonly journal: EventJournal;
  private readonly status: SessionStatusTracker;
  readonly sandbox: SandboxLeaseManager;
  readonly mcp: McpSessionTools;
  private readonly queue: QueuedEvent[];
  private readonly seen: EventIdMemory;
  readonly pending = new Map<string, PendingEntry>();
  usage: ModelUsage;
  readonly stats: SessionStats;
  private interruptEventId: string | undefined;
  private terminateReason: 'archived' | 'deleted' | 'terminated' | undefined;
  private cancellable: CancellationScope | undefined;
  private turnsThisRun = 0;
  readonly runnerWork: RunnerWork;
  private readonly context: ContextCompactor;
  readonly threads: SessionThreads;
  private readonly threadRole: ThreadRole | undefined;
  private readonly runs: WorkflowRuns;

  readonly input: SessionWorkflowInput;

  constructor(input: SessionWorkflowInput) {
    this.input = input;
    const carried = input.carried;
    this.journal = new EventJournal(input.sessionId, carried?.nextSeq ?? 1);
    this.status = new SessionStatusTracker(this.journal, carried?.stats.activeMs ?? 0);
    this.sandbox = new SandboxLeaseManager(input, this.journal, carried?.lease, carried?.lastSnapshotId);
    this.mcp = new McpSessionTools(input, this.journal);
    this.queue = [...(carried?.queue ?? [])];
    this.seen = new EventIdMemory(carried?.seenEventIds ?? []);
    this.usage = carried?.usage ?? emptyModelUsage();
    this.stats = carried?.stats ?? { activeMs: 0, turns: 0, modelCalls: 0, toolCalls: 0 };
    this.runnerWork = new RunnerWork(input, this.journal);
    this.context = new ContextCompactor(input.settings, this.journal, carried?.context);
    this.threads = new SessionThreads(input, this.journal, this.status, carried?.threads);
    const stopping = () => this.interruptEventId !== undefined || this.terminateReason !== undefined;
    this.runs = new WorkflowRuns(input, this.journal, this.threads, stopping);
    this.threadRole = ThreadRole.of(input, this.journal, this.status, () => this.usage, this.pending);
  }

  // ---- messages -------------------------------------------------------------------------------------------------

  /** Accepts user events in order; duplicates by id are ignored. */
  receive(events: IncomingUserEvent[]): void {
    for (const incoming of events) {
      const id = incoming.id ?? this.journal.newId();
      if (!this.seen.remember(id)) continue;
      const event = { ...incoming, id, processed_at: null } as UserEvent;
      switch (event.type) {
        case 'user.interrupt':
          if (this.threads.interrupt(event.session_thread_id)) break; // that thread only
          this.interruptEventId ??= id;
          this.cancellable?.cancel();
          break;
        default:
          if (queuedTypes.has(event.type)) this.queue.push(event);
          else this.resolve(event);
      }
    }
  }

  /** An answer (a confirmation, a custom tool result, a runner's tool result) resolves what awaits it, if anything. */
  private resolve(event: UserEvent): void {
    if (this.threads.forward(event)) return;
    const answer = answerOf(event);
    const entry =
      answer && this.awaiting(answer.toolUseId) === answer.kind ? this.pending.get(answer.toolUseId) : undefined;
    if (!entry) return logStrayAnswer(event); // not asked, or already answered
    entry.resolution = resolutionOf(event);
    this.journal.emit(event);
  }

  private awaiting(toolUseId: string): PendingAction['kind'] | undefined {
    const entry = this.pending.get(toolUseId);
    return entry && !entry.resolution ? entry.kind : this.threads.awaiting(toolUseId); // or one of its threads
  }

  /** The update's validator: throws when receive() would drop an answer, or the session is ending. */
  validate(events: IncomingUserEvent[]): void {
    const ending = this.terminateReason !== undefined;
    validateUserEvents(events, { ending, received: this.seen.ids, awaiting: (id) => this.awaiting(id) });
  }

  /** The API updated the session (title, metadata): journaled as `session.updated`. */
  noteUpdate(notice: SessionUpdateNotice): void {
    if (this.seen.remember(notice.id)) this.journal.emit({ type: 'session.updated', ...notice });
  }

  /** A message from another thread of the session: queued like a user message. */
  receiveThreadMessage(event: ThreadMessageEvent): void {
    if (this.seen.remember(event.id)) this.queue.push(event);
  }

  requestTermination(reason: 'archived' | 'deleted' | 'terminated'): void {
    this.terminateReason ??= reason;
    this.cancellable?.cancel();
    this.threads.terminateAll(reason);
  }

  view(): SessionStateView {
    return {
      sessionId: this.input.sessionId,
      status: this.status.status,
      stopReason: this.status.stopReason,
      pendingActions: [...this.pending.values()]
        .filter((entry) => !entry.resolution)
        .map(({ eventId, kind, name }) => ({ eventId, kind, name })),
      usage: addModelUsage(this.usage, this.threads.usage()),
      stats: { ...this.stats, activeMs: this.status.currentActiveMs() },
      lastSeq: this.journal.lastSeq,
      sandbox: { state: this.sandbox.state, hostQueue: this.sandbox.lease?.hostQueue },
      queuedEvents: this.queue.length,
      ...(this.input.budget ? { budget: this.input.budget.limit } : {}),
    };
  }

  private usageNow = () => usageSnapshot(this.usage, this.status.currentActiveMs(), this.input.budget);

  // ---- the loop -------------------------------------------------------------------------------------------------

  async run(): Promise<SubAgentResult | undefined> {
    this.receive(this.input.initialEvents ?? []);
    for (;;) {
      await this.sandbox.idleUntil(this.hasWork);
      if (this.terminateReason) return this.terminate(this.terminateReason);
      if (this.interruptEventId && this.queue.length === 0) {
        this.applyInterrupt(); // nothing running: the interrupt is simply recorded
        continue;
      }
      const next = this.queue.shift();
      const answer =
        next?.type === 'agent.thread_message_received' ? await this.runTurn(next) : await takeUp(this.host(), next);
      if (!answer) continue;
      const budget = this.input.budget; // a budgeted session reports its tracked list cost at each turn's end
      if (budget) this.journal.emit({ type: 'session.usage', usage: this.usageNow(), budget: budget.limit });
      this.applyInterrupt();
      this.threadRole?.finishTurn(answer.text, answer.stop);
      this.status.idle(answer.stop, answer.stopDetails ?? null);
      await this.sandbox.snapshotIfDirty();
      if (this.input.parent) return this.finishSubAgent(answer);
      if (continueAsNewDue(this.input, this.turnsThisRun, this.sandbox.regionAtStart))
        await continueSessionAsNew(this.carrySources());
    }
  }

  private hasWork = (): boolean =>
    this.queue.length > 0 || this.interruptEventId !== undefined || this.terminateReason !== undefined;

  private host = (): OutcomeHost => ({
    settings: this.input.settings,
    journal: this.journal,
    status: this.status,
    interrupted: () => this.interruptEventId !== undefined || this.terminateReason !== undefined,
    setCancellable: (scope) => (this.cancellable = scope),
    call: sideCallOf(this.input),
    runTurn: (message) => this.runTurn(message),
    addUsage: (usage) => (this.usage = addModelUsage(this.usage, usage)),
  });

  private async runTurn(message: UserMessageEvent | ThreadMessageEvent | undefined): Promise<TurnAnswer> {
    if (message) this.journal.emit(message);
    this.status.running();
    this.stats.turns++;
    this.turnsThisRun++;
    await this.runnerWork.queueAtTurnStart();
    if (isHarnessTurn(this.input)) return runHarnessTurn({ ...this.host(), session: this }, message);
    const agent = this.input.agent;
    const maxSteps = agent.limits?.max_turns ?? defaultLimits.max_turns;
    const tools = await this.mcp.toolSpecs(sessionToolSpecs(agent, this.input.environment));
    let stop: StopReason = { type: 'end_turn' };
    let stopDetails: RefusalStopDetails | undefined;
    let lastText = '';

    for (let step = 1; ; step++) {
      if (this.interruptEventId || this.terminateReason) break;
      if (step > maxSteps) {
        const limitMessage = `The agent reached its limit of ${maxSteps} model calls per turn.`;
        emitLimitError(this.journal, 'tool_use_limit_reached_error', limitMessage);
        stop = { type: 'retries_exhausted' };
        break;
      }
      if (budgetSpent(agent.limits, this.input.budget, this.usage)) {
        stop = { type: 'budget_reached' };
        break;
      }
      const room = this.context.makeRoom(this.host()); // 'ok' at once when there is room
      if (room !== 'ok' && (await room) === 'limit') {
        stop = { type: 'retries_exhausted' };
        break;
      }
      const outcome = await callModel(
        this.host(),
        {
          ...sideCallOf(this.input),
          system: sessionSystemPrompt(this.input, agent),
          tools,
          ...(this.context.context ? { context: this.context.context } : {}),
        },
        `${agent.model.id} turn ${this.stats.turns}${step > 1 ? ` step ${step}` : ''}`,
      );
      if (outcome.kind === 'exhausted') stop = { type: 'retries_exhausted' };
      if (outcome.kind === 'budget') stop = { type: 'budget_reached' };
      if (outcome.kind !== 'response') break;

      this.stats.modelCalls++;
      this.usage = addModelUsage(this.usage, outcome.response.usage);
      this.context.noteResponse(outcome.response.usage);
      const text = outcome.response.content.flatMap((block) => (block.type === 'text' ? [block] : []));
      if (text.length > 0) {
        this.journal.emit({ type: 'agent.message', id: outcome.messageEventId, content: text });
        lastText = text.map((block) => block.text).join('');
      }
      const uses = outcome.response.content.filter((block): block is ToolUseBlock => block.type === 'tool_use');
      if (uses.length === 0) {
        if (outcome.response.stopReason === 'refusal') {
          stop = { type: 'refusal' };
          stopDetails = outcome.response.stopDetails ?? refusalDetails();
        }
        break;
      }
      if ((await this.runTools(uses)) === 'interrupted') break;
    }
    return { text: lastText, stop, ...(stopDetails ? { stopDetails } : {}) };
  }

  /** Emits the tool-use events, runs what is allowed, waits for the client where it must, runs what it approved. */
  private async runTools(uses: ToolUseBlock[]): Promise<'done' | 'interrupted'> {
    const runNow = announceToolCalls(this, uses);
    await Promise.all(runNow.map((call) => this.execute(call)));
    if (this.pending.size === 0) return 'done';

    // Wait for the client (and the runner); each partial answer re-announces what the client still has to do. Inline,
    // not a helper: an extra async layer would shift when the journal's batch leaves, and so the recorded commands.
    for (;;) {
      const open = [...this.pending.values()].filter((entry) => !entry.resolution);
      if (open.length === 0) break;
      const awaited = open.map((entry) => entry.eventId);
      const clientAwaited = open.filter((entry) => entry.kind !== 'tool_result').map((entry) => entry.eventId);
      // Only a runner's results are awaited: the tools are running (on the runner), so the session is running.
      if (clientAwaited.length > 0) this.status.idle({ type: 'requires_action', event_ids: clientAwaited });
      else this.status.running();
      if (clientAwaited.length < awaited.length) await this.runnerWork.ensureQueued();
      await condition(
        () =>
          this.interruptEventId !== undefined ||
          this.terminateReason !== undefined ||
          [...this.pending.values()].filter((entry) => !entry.resolution).length < awaited.length,
      );
      if (this.interruptEventId || this.terminateReason) {
        this.pending.clear();
        return 'interrupted';
      }
      this.stats.toolCalls += handConfirmedCallsToRunner(this.pending);
    }
    this.status.running();
    const approved: ToolCall[] = [];
    for (const entry of this.pending.values()) {
      const resolution = entry.resolution;
      if (!resolution || 'custom' in resolution) continue;
      if (resolution.allow) approved.push(entry.call);
      else emitToolResult(this.journal, entry.call, resolution.denyMessage ?? 'The user denied this tool call.', true);
    }
    this.pending.clear();
    await Promise.all(approved.map((call) => this.execute(call)));
    return 'done';
  }

  /** The advisor's requests are the session's: journaled here, their usage added to its own. */
  get advisorHost(): AdvisorHost {
    return {
      journal: this.journal,
      addUsage: (usage) => {
        this.stats.modelCalls++;
        this.usage = addModelUsage(this.usage, usage);
      },
    };
  }

  private async execute(call: ToolCall): Promise<void> {
    this.stats.toolCalls++;
    const { route } = call;
    const run = () => executeTool(call, this.input, this.sandbox, this.threads, this.advisorHost);
    const outcome =
      route.kind === 'mcp'
        ? await this.mcp.run(call, route.entry)
        : route.kind === 'workflow_run'
          ? await this.runs.start(call)
          : await run();
    emitToolResult(this.journal, call, outcome.content, outcome.isError);
  }

  private applyInterrupt(): void {
    if (!this.interruptEventId) return;
    this.journal.emit({ type: 'user.interrupt', id: this.interruptEventId });
    this.interruptEventId = undefined;
  }

  // ---- endings --------------------------------------------------------------------------------------------------

  private async terminate(reason: 'archived' | 'deleted' | 'terminated'): Promise<undefined> {
    if (this.threads.toCarry()) await this.threads.allEnded(); // no extra await without threads: replay
    await this.sandbox.destroy(reason === 'deleted');
    this.status.terminated();
    if (reason === 'deleted') this.journal.emit({ type: 'session.deleted' });
    await this.journal.flushed();
    if (this.threadRole) await this.threadRole.reported();
    return undefined;
  }

  private async finishSubAgent(answer: TurnAnswer): Promise<SubAgentResult> {
    await this.sandbox.destroy(true);
    this.status.terminated();
    await this.journal.flushed();
    const isError = answer.stop.type !== 'end_turn' || answer.text.length === 0;
    return { sessionId: this.input.sessionId, text: answer.text || '(the sub-agent gave no answer)', isError };
  }

  private carrySources = (): CarrySources => ({
    input: this.input,
    journal: this.journal,
    status: this.status,
    sandbox: this.sandbox,
    seen: this.seen,
    mcp: this.mcp,
    context: this.context,
    threads: this.threads,
    queue: this.queue,
    stats: this.stats,
    usage: () => this.usage,
    busy: () => this.terminateReason !== undefined || this.interruptEventId !== undefined,
  });
}
