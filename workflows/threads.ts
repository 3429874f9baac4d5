// The primary thread's side of a multiagent session. The coordinator delegates with the `delegate` tool
// (domain/tools/delegate-tool.ts): a new thread is recorded, journaled (`session.thread_created`) and started as a
// child workflow `session-<sthr_…>` with its own event log; the message goes to it (`agent.thread_message_sent` here,
// `agent.thread_message_received` there) and the call waits for the thread's reply (journaled here as
// `agent.thread_message_received`), which is the tool's result. Threads report every status change; this side
// journals `session.thread_status_*`, cross-posts what a thread awaits from the client (a fresh event id here, tagged
// with `session_thread_id`), routes the client's answers to the thread, forwards interrupts and terminations, and
// adds the threads' usage to the session's.
import {
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentSnapshot } from '../domain/agent.ts';
import type { UserEvent } from '../domain/events.ts';
import { makeId, sessionWorkflowId } from '../domain/ids.ts';
import { addModelUsage, emptyModelUsage, type ModelUsage } from '../domain/model.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import { agentIdKey, environmentIdKey, sessionStatusKey, tenantIdKey } from '../domain/search-attributes.ts';
import { sessionWorkflowType, type PendingAction, type SessionWorkflowInput } from '../domain/session.ts';
import {
  maxThreadsPerSession,
  primaryThreadId,
  rosterOf,
  type ThreadRecord,
  type ThreadReport,
} from '../domain/threads.ts';
import { resolveInlineAgent, type InlineAgentView } from '../domain/inline-agents.ts';
import { delegateToolDefinition, type DelegateInput } from '../domain/tools/delegate-tool.ts';
import { checkToolInput } from '../domain/tools/tool-definition.ts';
import { threadActivities } from './activity-proxies.ts';
import type { EventJournal } from './event-journal.ts';
import type { SessionStatusTracker } from './session-status.ts';
import { terminateSessionSignal, userEventsSignal, type IncomingUserEvent } from './messages.ts';
import { threadMessageSignal, type ThreadMessage } from './thread-messages.ts';
import type { ToolCall } from './tool-execution.ts';
import { answerOf } from './user-event-validation.ts';

interface AwaitedAnswer {
  threadId: string;
  /** The thread's own tool use id (what it resolves by). */
  toolUseId: string;
  kind: PendingAction['kind'];
}

type Reply = { text: string; isError: boolean };

/** A session's other threads, as its primary thread (the session's own workflow) starts and follows them. */
export class SessionThreads {
  private readonly input: SessionWorkflowInput;
  private readonly journal: EventJournal;
  private readonly records: Map<string, ThreadRecord>;
  /** Answers the client may send for the threads, by the id it answers (the cross-post's or the thread's own). */
  private readonly awaited = new Map<string, AwaitedAnswer>();
  /** The delegating call each busy thread answers, and the replies not yet taken (by call). */
  private readonly working = new Map<string, string>();
  private readonly replies = new Map<string, Reply>();
  /** The session's status, which follows what its threads await while the coordinator waits on them. */
  private readonly status: SessionStatusTracker;
  /** The session is ending: a delegation stops waiting for its reply. */
  private ending = false;

  constructor(
    input: SessionWorkflowInput,
    journal: EventJournal,
    status: SessionStatusTracker,
    carried?: ThreadRecord[],
  ) {
    this.input = input;
    this.journal = journal;
    this.status = status;
    this.records = new Map((carried ?? []).map((record) => [record.threadId, { ...record }]));
  }

  /** The `delegate` tool: a message to a new or earlier thread; the result is the thread's reply. */
  async delegate(call: ToolCall): Promise<ToolOutcome> {
    const checked = checkToolInput(delegateToolDefinition(this.input.agent), call.input);
    if (!checked.ok) return { content: checked.message, isError: true };
    const input = checked.input as DelegateInput;
    const target = this.target(input);
    if ('refused' in target) return { content: target.refused, isError: true };
    const record = target.record ?? (await this.spawn(target.agent, undefined, target.view));
    await this.send(record, call.eventId, input.message);
    await condition(() => this.replies.has(call.eventId) || this.ending);
    const reply = this.takeReply(record, call.eventId) ?? { text: 'The session is ending.', isError: true };
    return {
      content: `${record.agentName} (session_thread_id ${record.threadId}) replied:\n${reply.text}`,
      isError: reply.isError,
    };
  }

  /** Where a delegation goes: a thread started earlier, or a new one of a roster agent or of an inline agent. */
  private target(
    input: DelegateInput,
  ):
    | { record: ThreadRecord }
    | { record?: undefined; agent: AgentSnapshot; view?: InlineAgentView }
    | { refused: string } {
    const { agent: name, inline_agent: inline, session_thread_id: continued } = input;
    const refusal = this.refusal(name, continued);
    if (refusal) return { refused: refusal };
    if (continued) {
      if (inline) return { refused: 'inline_agent defines a new thread: omit session_thread_id, or inline_agent.' };
      return { record: this.records.get(continued)! };
    }
    if (inline) {
      if (name) return { refused: 'Give either agent or inline_agent, not both.' };
      const resolved = resolveInlineAgent(this.input.agent, inline);
      return resolved.ok ? { agent: resolved.agent, view: resolved.view } : { refused: resolved.message };
    }
    const agent = name ? rosterOf(this.input.agent).get(name) : undefined;
    if (agent) return { agent };
    return { refused: name ? `There is no agent named "${name}".` : 'Name an agent, or define one with inline_agent.' };
  }

  private refusal(agentName: string | undefined, continued: string | undefined): string | undefined {
    if (!continued) {
      return this.records.size >= maxThreadsPerSession
        ? `This session has started its limit of ${maxThreadsPerSession} threads; continue one of them instead.`
        : undefined;
    }
    const record = this.records.get(continued);
    if (!record || (agentName !== undefined && record.agentName !== agentName)) {
      return `There is no thread ${continued}${agentName === undefined ? '' : ` of agent ${agentName}`}.`;
    }
    if (record.archived || record.status === 'terminated') return `Thread ${continued} has ended.`;
    if (this.working.has(continued)) return `Thread ${continued} is still working on an earlier message.`;
    return undefined;
  }

  /**
   * Sends a thread a message whose reply is kept under `key` (a delegating call's id, a run's task attempt) until
   * taken; the returned promise is the signal's.
   */
  send(record: ThreadRecord, key: string, message: string): Promise<void> {
    this.working.set(record.threadId, key);
    const content = [{ type: 'text' as const, text: message }];
    const to = { to_session_thread_id: record.threadId, to_agent_name: record.agentName };
    this.journal.emit({ type: 'agent.thread_message_sent', content, ...to });
    const sent: ThreadMessage = {
      id: this.journal.newId(),
      content,
      fromThreadId: primaryThreadId(this.input.sessionId),
      fromAgentName: null,
    };
    return getExternalWorkflowHandle(sessionWorkflowId(record.threadId)).signal(threadMessageSignal, sent);
  }

  /** Whether the reply under `key` has arrived. */
  hasReply = (key: string): boolean => this.replies.has(key);

  /** The reply under `key`, journaled as received (undefined if none came: the thread stops being awaited). */
  takeReply(record: ThreadRecord, key: string): Reply | undefined {
    const reply = this.replies.get(key);
    this.replies.delete(key);
    this.working.delete(record.threadId);
    if (!reply) return undefined;
    const from = { from_session_thread_id: record.threadId, from_agent_name: record.agentName };
    this.journal.emit({
      type: 'agent.thread_message_received',
      content: [{ type: 'text', text: reply.text }],
      ...from,
    });
    return reply;
  }

  /** Whether the thread waits on the client (a cross-posted confirmation or custom tool result). */
  awaitsClient = (threadId: string): boolean => [...this.awaited.values()].some((entry) => entry.threadId === threadId);

  /** Ends one thread (a run's task that has finished). */
  end(threadId: string): void {
    const record = this.records.get(threadId);
    if (!record || record.status === 'terminated') return;
    this.signal(threadId, (handle) => handle.signal(terminateSessionSignal, { reason: 'terminated' }));
  }

  /** Threads the session may still start. */
  get room(): number {
    return maxThreadsPerSession - this.records.size;
  }

  /**
   * Starts a thread of a roster agent, or of an inline agent (`inline`: its definition, which the thread's row keeps);
   * a run's thread names its run (and says where it sits in Temporal UI).
   */
  async spawn(
    agent: AgentSnapshot,
    run?: { workflowRunId: string; summary: string },
    inline?: InlineAgentView,
  ): Promise<ThreadRecord> {
    const threadId = makeId('thread', uuid4());
    const { sessionId, tenantId, environment } = this.input;
    const parentThreadId = primaryThreadId(sessionId);
    this.journal.emit({
      type: 'session.thread_created',
      session_thread_id: threadId,
      agent_name: agent.name,
      workflow_run_id: run?.workflowRunId ?? null,
    });
    await threadActivities.recordSessionThread({
      id: threadId,
      sessionId,
      tenantId,
      parentThreadId,
      agentName: agent.name,
      agent: inline ?? agent,
      ...(run ? { workflowRunId: run.workflowRunId } : {}),
    });
    const input: SessionWorkflowInput = {
      sessionId: threadId,
      tenantId,
      title: `${agent.name}: thread of ${sessionId}`,
      agent,
      environment,
      vaultIds: this.input.vaultIds,
      settings: this.input.settings,
      thread: {
        sessionId,
        threadId,
        agentName: agent.name,
        parentWorkflowId: workflowInfo().workflowId,
        parentThreadId,
      },
    };
    await startChild(sessionWorkflowType, {
      workflowId: sessionWorkflowId(threadId),
      args: [input],
      // Threads outlive a continue-as-new of the primary; they end when it terminates them.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      memo: { title: input.title, sessionId, threadId, ...(run ? { workflowRunId: run.workflowRunId } : {}) },
      typedSearchAttributes: [
        { key: sessionStatusKey, value: 'idle' },
        { key: agentIdKey, value: agent.id },
        { key: tenantIdKey, value: tenantId },
        { key: environmentIdKey, value: environment.id },
      ],
      staticSummary: run?.summary ?? `thread ${agent.name}`,
    });
    const record: ThreadRecord = {
      threadId,
      agentName: agent.name,
      status: 'idle',
      archived: false,
      usage: emptyModelUsage(),
    };
    this.records.set(threadId, record);
    return record;
  }

  /** A thread's report (the signal): journals its status, cross-posts what it awaits, takes its reply. */
  report(report: ThreadReport): void {
    const record = this.records.get(report.threadId);
    if (!record) return log.warn('a report from an unknown thread', { threadId: report.threadId });
    record.usage = report.usage;
    for (const [id, entry] of this.awaited) if (entry.threadId === record.threadId) this.awaited.delete(id);
    const about = { session_thread_id: record.threadId, agent_name: record.agentName };
    if (report.status === 'running' && record.status !== 'running') {
      this.journal.emit({ type: 'session.thread_status_running', ...about });
    } else if (report.status === 'idle') {
      const stop = report.stopReason ?? { type: 'end_turn' as const };
      const details = report.stopDetails ?? null;
      this.journal.emit({ type: 'session.thread_status_idle', ...about, stop_reason: stop, stop_details: details });
      this.crossPost(record.threadId, report.awaiting ?? []);
    } else if (report.status === 'terminated') {
      this.journal.emit({ type: 'session.thread_status_terminated', ...about });
    }
    const call = this.working.get(record.threadId);
    const reply =
      report.reply ?? (report.status === 'terminated' ? { text: 'The thread ended.', isError: true } : undefined);
    if (call && reply) this.replies.set(call, reply);
    record.status = report.status;
    this.followThreads();
  }

  /** While the coordinator waits on its threads, the session is idle exactly when one awaits the client. */
  private followThreads(): void {
    if (this.working.size === 0) return;
    const ids = this.clientAwaitedIds();
    const stop = this.status.stopReason;
    const current = stop?.type === 'requires_action' ? stop.event_ids : [];
    if (ids.length > 0 && ids.join() !== current.join()) this.status.idle({ type: 'requires_action', event_ids: ids });
    else if (ids.length === 0 && this.status.status === 'idle') this.status.running();
  }

  private crossPost(threadId: string, awaiting: NonNullable<ThreadReport['awaiting']>): void {
    for (const call of awaiting) {
      const id = this.journal.newId();
      const { name, input } = call;
      if (call.kind === 'confirmation') {
        this.journal.emit({
          type: 'agent.tool_use',
          id,
          name,
          input,
          evaluated_permission: 'ask',
          session_thread_id: threadId,
        });
      } else {
        this.journal.emit({ type: 'agent.custom_tool_use', id, name, input, session_thread_id: threadId });
      }
      const entry = { threadId, toolUseId: call.eventId, kind: call.kind };
      this.awaited.set(id, entry);
      this.awaited.set(call.eventId, entry);
    }
  }

  /** What a thread awaits under this id (for the update's validator). */
  awaiting(toolUseId: string): PendingAction['kind'] | undefined {
    return this.awaited.get(toolUseId)?.kind;
  }

  /** The cross-posted ids the client must answer (the session's `requires_action`). */
  clientAwaitedIds(): string[] {
    return [...this.awaited].filter(([id, entry]) => id !== entry.toolUseId).map(([id]) => id);
  }

  /** Routes an answer meant for a thread to it (journaled here with the thread's id); false if it is not one. */
  forward(event: UserEvent): boolean {
    const answer = answerOf(event);
    const entry = answer ? this.awaited.get(answer.toolUseId) : undefined;
    if (!answer || !entry || entry.kind !== answer.kind) return false;
    for (const [id, other] of this.awaited) if (other.toolUseId === entry.toolUseId) this.awaited.delete(id);
    this.journal.emit({ ...event, session_thread_id: entry.threadId });
    const routed = { ...event, id: this.journal.newId() } as IncomingUserEvent & { processed_at?: unknown };
    delete routed.processed_at;
    if (routed.type === 'user.custom_tool_result') routed.custom_tool_use_id = entry.toolUseId;
    else if (routed.type === 'user.tool_confirmation' || routed.type === 'user.tool_result') {
      routed.tool_use_id = entry.toolUseId;
    }
    this.signal(entry.threadId, (handle) => handle.signal(userEventsSignal, [routed]));
    return true;
  }

  /**
   * An interrupt naming one of the threads goes to it alone (true: the session itself goes on); any other reaches
   * every thread that has not ended, and the session too.
   */
  interrupt(threadId: string | null | undefined): boolean {
    const only = threadId && this.records.has(threadId) ? threadId : undefined;
    for (const record of this.records.values()) {
      if (record.archived || record.status === 'terminated') continue;
      if (only && record.threadId !== only) continue;
      const event: IncomingUserEvent = { type: 'user.interrupt', id: this.journal.newId() };
      this.signal(record.threadId, (handle) => handle.signal(userEventsSignal, [event]));
    }
    return only !== undefined;
  }

  /** Ends every thread that has not ended (the session is ending). */
  terminateAll(reason: 'archived' | 'deleted' | 'terminated'): void {
    this.ending = true;
    for (const record of this.records.values()) {
      if (record.status === 'terminated') continue;
      this.signal(record.threadId, (handle) => handle.signal(terminateSessionSignal, { reason }));
    }
  }

  /** Waits (boundedly) until every thread reported its end. */
  async allEnded(): Promise<void> {
    if (this.records.size === 0) return;
    await condition(() => [...this.records.values()].every((record) => record.status === 'terminated'), '1 minute');
  }

  /** The threads' usage, which counts as the session's. */
  usage(): ModelUsage {
    return [...this.records.values()].reduce((sum, record) => addModelUsage(sum, record.usage), emptyModelUsage());
  }

  toCarry(): ThreadRecord[] | undefined {
    return this.records.size > 0 ? [...this.records.values()] : undefined;
  }

  private signal(threadId: string, send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>) {
    void send(getExternalWorkflowHandle(sessionWorkflowId(threadId))).catch((error: unknown) =>
      log.warn('could not reach a session thread', { threadId, error: String(error) }),
    );
  }
}
