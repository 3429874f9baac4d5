// The reaper: a sandbox worker's periodic sweep that removes the containers (and volumes) on its host whose session
// workflow is closed or gone — a session whose destroy activity never ran (its worker died, it was terminated from the
// CLI, retention expired). Only a definite answer from Temporal reaps: when Temporal cannot be asked, nothing goes.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { sessionWorkflowId } from '../../domain/ids.ts';
import type { DockerSandbox } from './docker-sandbox.ts';

/** Answers whether a session no longer needs its containers. Throws when it cannot tell. */
export type SessionGoneCheck = (sessionId: string) => Promise<boolean>;

/** Asks Temporal about `session-<sessionId>` (its latest run): closed, or never existed / past retention, is gone. */
export function temporalSessionGoneCheck(client: Client): SessionGoneCheck {
  return async (sessionId) => {
    try {
      const description = await client.workflow.getHandle(sessionWorkflowId(sessionId)).describe();
      return description.status.name !== 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return true;
      throw error;
    }
  };
}

export interface SandboxReaperOptions {
  /** The host's provider; its extra labels (the host label) scope the sweep to this host's containers. */
  sandbox: DockerSandbox;
  isSessionGone: SessionGoneCheck;
  /** Time between sweeps, in ms. */
  intervalMs: number;
  onReaped?: (containerIds: string[]) => void;
  onError?: (error: unknown) => void;
}

export class SandboxReaper {
  private readonly options: SandboxReaperOptions;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<string[]> | undefined;
  private stopped = false;

  constructor(options: SandboxReaperOptions) {
    this.options = options;
  }

  /** Sweeps every intervalMs until stop(); the first sweep runs after one interval. */
  start(): void {
    if (this.timer || this.stopped) return;
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.sweep()
          .then((removed) => {
            if (removed.length > 0) this.options.onReaped?.(removed);
          })
          .catch((error: unknown) => this.options.onError?.(error))
          .finally(() => {
            if (!this.stopped) schedule();
          });
      }, this.options.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  /** One sweep now (single-flight); returns the removed container ids. */
  sweep(): Promise<string[]> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<string[]> {
    // One question per session per sweep, however many containers and volumes it has; an unanswered one keeps them.
    const answers = new Map<string, Promise<boolean>>();
    const isGone = (sessionId: string): Promise<boolean> => {
      let answer = answers.get(sessionId);
      if (!answer) {
        answer = this.options.isSessionGone(sessionId).catch((error: unknown) => {
          this.options.onError?.(error);
          return false;
        });
        answers.set(sessionId, answer);
      }
      return answer;
    };
    return this.options.sandbox.removeContainersWhere(isGone);
  }

  /** Stops sweeping and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }
}
