// The API's only door into session workflows: start, query, update, signal, terminate — by the message definitions in
// workflows/messages.ts and the contracts in domain/, nothing else from the workflow side.
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { encodingForTenant } from '../codec/tenant-hint.ts';
import { ConflictError, ErrorCode, FailureType, InvalidInputError, PlatformError } from '../domain/errors.ts';
import { sessionWorkflowId } from '../domain/ids.ts';
import { agentIdKey, environmentIdKey, sessionStatusKey, tenantIdKey } from '../domain/search-attributes.ts';
import { sessionWorkflowType, type SessionStateView, type SessionWorkflowInput } from '../domain/session.ts';
import { placedQueue, taskQueues } from '../domain/task-queues.ts';
import {
  sessionStateQuery,
  sessionUpdatedSignal,
  terminateSessionSignal,
  userEventsSignal,
  isAnswer,
  userEventsUpdate,
  type IncomingUserEvent,
  type SessionUpdateNotice,
} from '../workflows/messages.ts';

/** The routes answer it with their own wording (409 'the session has ended'). */
export class SessionClosedError extends ConflictError {
  constructor(sessionId: string) {
    super(`session ${sessionId} has ended`);
  }
}

/** The session refused the events (an answer nobody awaits): a 400 whose message says which and why. */
export class UserEventsRejectedError extends InvalidInputError {}

/**
 * The session's workflow task keeps failing (a code bug, nondeterminism): Temporal refuses queries ('Workflow Task in
 * failed state') until a fixed worker takes it. Callers serve what the journal says instead of the workflow's view.
 */
export class SessionWorkflowFailingError extends ConflictError {
  constructor(sessionId: string) {
    super(`session ${sessionId}'s workflow is failing; its state is served from its event log`);
  }
}

const isWorkflowTaskFailing = (error: unknown, depth = 0): boolean =>
  error instanceof Error &&
  depth < 5 &&
  (/workflow task in failed state/i.test(error.message) || isWorkflowTaskFailing(error.cause, depth + 1));

const isClosedOrMissing = (error: unknown): boolean =>
  error instanceof WorkflowNotFoundError ||
  (error instanceof Error && /workflow execution already completed|not found/i.test(error.message));

export class SessionDriver {
  private readonly client: Client;
  private readonly queryTimeoutMs: number;

  /** `queryTimeoutMs` bounds every call to Temporal. */
  constructor(client: Client, queryTimeoutMs = 5_000) {
    this.client = client;
    this.queryTimeoutMs = queryTimeoutMs;
  }

  /** Bounds a call: the client retries an unreachable server for a long time; the API answers 503 sooner. */
  private bounded<R>(fn: () => Promise<R>, timeoutMs = this.queryTimeoutMs): Promise<R> {
    return this.client.withDeadline(Date.now() + timeoutMs, fn);
  }

  async start(input: SessionWorkflowInput): Promise<void> {
    // The session's row is not committed yet: the hint lets the codec encrypt the start under the tenant's key.
    await encodingForTenant(input.tenantId, () =>
      this.bounded(() =>
        this.client.workflow.start(sessionWorkflowType, {
          // A code-defined agent's session runs in its operator's worker (sdk/), which polls the harness's own queue.
          taskQueue:
            input.agent.harness?.type === 'code'
              ? input.agent.harness.task_queue
              : placedQueue(input.settings, taskQueues.session),
          workflowId: sessionWorkflowId(input.sessionId),
          args: [input],
          typedSearchAttributes: [
            { key: sessionStatusKey, value: 'idle' },
            { key: agentIdKey, value: input.agent.id },
            { key: tenantIdKey, value: input.tenantId },
            { key: environmentIdKey, value: input.environment.id },
          ],
          memo: { title: input.title },
          staticSummary: `${input.agent.name}${input.title ? `: ${input.title}` : ''}`,
        }),
      ),
    );
  }

  /**
   * The workflow's own view; undefined when the workflow is gone. Throws (503) if Temporal cannot answer in time,
   * SessionWorkflowFailingError if its workflow task is failing.
   */
  async state(sessionId: string, timeoutMs = this.queryTimeoutMs): Promise<SessionStateView | undefined> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    try {
      return await this.bounded(() => handle.query(sessionStateQuery), timeoutMs);
    } catch (error) {
      if (isClosedOrMissing(error)) return undefined;
      if (isWorkflowTaskFailing(error)) throw new SessionWorkflowFailingError(sessionId);
      throw error;
    }
  }

  /**
   * Hands the events to the session as one update: the workflow validates them before anything reaches history and
   * answers with its verdict (UserEventsRejectedError, SessionClosedError). If no session worker takes the update in
   * time (all of them down, a deploy), a batch without answers — which needs no verdict — is queued durably as the
   * signal instead; the ids are the same, so the update, should it still run, is a duplicate the workflow ignores.
   */
  async sendEvents(sessionId: string, events: IncomingUserEvent[]): Promise<void> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    try {
      await this.bounded(() => handle.executeUpdate(userEventsUpdate, { args: [events] }));
    } catch (error) {
      if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError && !events.some(isAnswer)) {
        return this.signalEvents(sessionId, events);
      }
      if (isWorkflowTaskFailing(error)) {
        // Temporal refuses updates while the workflow task is failing (a task timed out under load, or a bug until a
        // fixed worker takes it). Events that need no verdict queue durably as the signal; answers wait: 503.
        if (!events.some(isAnswer)) return this.signalEvents(sessionId, events);
        throw new PlatformError(ErrorCode.unavailable, `session ${sessionId}'s workflow task is failing; retry later`, {
          retryable: true,
          cause: error,
        });
      }
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FailureType.userEventRejected) {
        throw new UserEventsRejectedError(cause.message);
      }
      if (cause instanceof ApplicationFailure && cause.type === FailureType.sessionEnded) {
        throw new SessionClosedError(sessionId);
      }
      if (isClosedOrMissing(error)) throw new SessionClosedError(sessionId);
      throw error;
    }
  }

  /** The events as a signal: durable without a workflow task, but without a verdict (stray answers are dropped). */
  private async signalEvents(sessionId: string, events: IncomingUserEvent[]): Promise<void> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    try {
      await this.bounded(() => handle.signal(userEventsSignal, events));
    } catch (error) {
      if (isClosedOrMissing(error)) throw new SessionClosedError(sessionId);
      throw error;
    }
  }

  /** Tells the session what an update through the API changed (its `session.updated` event); false if it has ended. */
  async notifyUpdated(sessionId: string, notice: SessionUpdateNotice): Promise<boolean> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    try {
      await this.bounded(() => handle.signal(sessionUpdatedSignal, notice));
      return true;
    } catch (error) {
      if (isClosedOrMissing(error)) return false;
      throw error;
    }
  }

  /** Asks the session to end; false if it had already ended. */
  async requestTermination(sessionId: string, reason: 'archived' | 'deleted'): Promise<boolean> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    try {
      await this.bounded(() => handle.signal(terminateSessionSignal, { reason }));
      return true;
    } catch (error) {
      if (isClosedOrMissing(error)) return false;
      throw error;
    }
  }

  /** Waits up to `timeoutMs` for the workflow to close; true if it did. */
  async waitClosed(sessionId: string, timeoutMs: number): Promise<boolean> {
    const handle = this.client.workflow.getHandle(sessionWorkflowId(sessionId));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const description = await this.bounded(() => handle.describe());
        if (description.status.name !== 'RUNNING') return true;
      } catch (error) {
        if (isClosedOrMissing(error)) return true;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  }

  async forceTerminate(sessionId: string, reason: string): Promise<void> {
    try {
      await this.bounded(() => this.client.workflow.getHandle(sessionWorkflowId(sessionId)).terminate(reason));
    } catch (error) {
      if (!isClosedOrMissing(error)) throw error;
    }
  }

  /** Temporal answers (used by /health). */
  async healthy(timeoutMs = 2_000): Promise<boolean> {
    try {
      await this.bounded(() => this.client.workflowService.getSystemInfo({}), timeoutMs);
      return true;
    } catch {
      return false;
    }
  }
}
