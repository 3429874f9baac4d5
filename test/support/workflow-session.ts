// Drives a session the way any Temporal client can: start the workflow by type, signal user events, query state;
// reads the event log from the journal. Used by the engine tests (the API tests go through HTTP instead).
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { AgentSnapshot } from '../../domain/agent.ts';
import type { SessionEvent } from '../../domain/events.ts';
import { makeId, sessionWorkflowId } from '../../domain/ids.ts';
import { defaultSandboxSpec } from '../../domain/sandbox.ts';
import { agentIdKey, environmentIdKey, sessionStatusKey, tenantIdKey } from '../../domain/search-attributes.ts';
import {
  defaultSessionSettings,
  sessionWorkflowType,
  type EnvironmentPackages,
  type SessionSettings,
  type SessionStateView,
  type SessionWorkflowInput,
} from '../../domain/session.ts';
import { placedQueue, taskQueues } from '../../domain/task-queues.ts';
import { readEvents } from '../../db/repositories/session-events.ts';
import { insertSession } from '../../db/repositories/sessions.ts';
import {
  sessionStateQuery,
  terminateSessionSignal,
  userEventsSignal,
  type IncomingUserEvent,
} from '../../workflows/messages.ts';
import { inject } from 'vitest';
import type { TestPlatform } from './platform.ts';

/** Settings that keep tests quick: short retry waits, prompt failure detection. */
export const fastSettings = (prefix: string, overrides: Partial<SessionSettings> = {}): SessionSettings => ({
  ...defaultSessionSettings,
  modelRetryInitialMs: 100,
  modelRetryMaxMs: 1_000,
  modelHeartbeatTimeoutMs: 5_000,
  sandboxHostTimeoutMs: 10_000,
  sandboxHeartbeatTimeoutMs: 10_000,
  taskQueuePrefix: prefix,
  ...overrides,
});

export function agentSnapshot(overrides: Partial<AgentSnapshot> & Pick<AgentSnapshot, 'model'>): AgentSnapshot {
  return {
    id: makeId('agent', randomUUID()),
    type: 'agent',
    version: 1,
    name: 'test agent',
    description: null,
    system: 'You are a test agent.',
    tools: [],
    mcp_servers: [],
    skills: [],
    ...overrides,
  };
}

export class WorkflowSession {
  readonly sessionId = makeId('session', randomUUID());
  handle!: WorkflowHandle;

  readonly platform: TestPlatform;
  readonly agent: AgentSnapshot;
  readonly settings: SessionSettings;
  /** Packages of the session's environment (set before start). */
  environmentPackages: EnvironmentPackages | undefined;

  constructor(platform: TestPlatform, agent: AgentSnapshot, settings: SessionSettings) {
    this.platform = platform;
    this.agent = agent;
    this.settings = settings;
  }

  /**
   * Writes the session's row (and its tenant's) as the API does, before start(): without one, the payload codec finds
   * no tenant for the workflow and asks PostgreSQL again on every payload it encodes (benchmarks that count CPU).
   */
  async withRow(): Promise<this> {
    await this.platform.pool.query(`insert into tenants (id, name) values ($1, $1) on conflict (id) do nothing`, [
      'tnt_test',
    ]);
    await insertSession(this.platform.pool, 'tnt_test', {
      id: this.sessionId,
      agentId: this.agent.id,
      agentVersion: this.agent.version,
      agentSnapshot: this.agent,
      environmentId: 'env_test',
      title: 'test session',
      metadata: {},
      vaultIds: [],
    });
    return this;
  }

  async start(): Promise<this> {
    const input: SessionWorkflowInput = {
      sessionId: this.sessionId,
      tenantId: 'tnt_test',
      title: 'test session',
      agent: this.agent,
      environment: {
        id: 'env_test',
        name: 'test',
        sandbox: defaultSandboxSpec(inject('sandboxImage')),
        ...(this.environmentPackages ? { packages: this.environmentPackages } : {}),
      },
      vaultIds: [],
      settings: this.settings,
    };
    this.handle = await this.platform.client.workflow.start(sessionWorkflowType, {
      taskQueue: placedQueue(this.settings, taskQueues.session),
      workflowId: sessionWorkflowId(this.sessionId),
      args: [input],
      memo: { title: input.title },
      typedSearchAttributes: [
        { key: sessionStatusKey, value: 'idle' },
        { key: agentIdKey, value: this.agent.id },
        { key: tenantIdKey, value: 'tnt_test' },
        { key: environmentIdKey, value: 'env_test' },
      ],
    });
    return this;
  }

  async send(...events: IncomingUserEvent[]): Promise<string[]> {
    const withIds = events.map((event) => ({ ...event, id: event.id ?? makeId('event', randomUUID()) }));
    await this.handle.signal(userEventsSignal, withIds);
    return withIds.map((event) => event.id);
  }

  message(text: string): Promise<string[]> {
    return this.send({ type: 'user.message', content: [{ type: 'text', text }] });
  }

  state(): Promise<SessionStateView> {
    return this.handle.query(sessionStateQuery);
  }

  private seen: SessionEvent[] = [];
  private lastSeq = 0;

  /** Every journaled event so far; reads only what is new since the last call. */
  async events(): Promise<SessionEvent[]> {
    const fresh = await readEvents(this.platform.pool, this.sessionId, { afterSeq: this.lastSeq });
    for (const { seq, event } of fresh) {
      this.seen.push(event);
      this.lastSeq = seq;
    }
    return [...this.seen];
  }

  /** Polls the journal until `done` holds for the events so far (or fails after timeoutMs). */
  async waitFor(what: string, done: (events: SessionEvent[]) => boolean, timeoutMs = 60_000): Promise<SessionEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = await this.events();
      if (done(events)) return events;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; events so far: ${events.map((event) => event.type).join(', ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until the session has gone idle `count` times with a stop reason other than requires_action. */
  waitForTurnEnd(count: number, timeoutMs?: number): Promise<SessionEvent[]> {
    return this.waitFor(`${count} finished turn(s)`, (events) => turnEnds(events) >= count, timeoutMs);
  }

  waitForRequiresAction(count: number): Promise<SessionEvent[]> {
    return this.waitFor(
      `${count} requires_action`,
      (events) =>
        events.filter((event) => event.type === 'session.status_idle' && event.stop_reason.type === 'requires_action')
          .length >= count,
    );
  }

  async terminate(reason: 'archived' | 'deleted' = 'deleted'): Promise<void> {
    await this.handle.signal(terminateSessionSignal, { reason });
    await this.handle.result();
  }
}

export const turnEnds = (events: SessionEvent[]): number =>
  events.filter((event) => event.type === 'session.status_idle' && event.stop_reason.type !== 'requires_action').length;

export const lastOfType = <T extends SessionEvent['type']>(events: SessionEvent[], type: T) =>
  events.filter((event): event is Extract<SessionEvent, { type: T }> => event.type === type).at(-1);
