// One sandbox per session, shared by its threads (as Anthropic's session threads share the session's container). The
// primary thread holds the lease (workflows/sandbox-lease.ts); a thread's sandboxed tool call goes to it as a request
// signal, runs on that lease — created, resumed or restored as for the primary's own calls — and the outcome comes back
// to the thread as a result signal. Histories of threads recorded before the patch ran their own sandbox; they replay so.
import { condition, getExternalWorkflowHandle, log, patched } from '@temporalio/workflow';
import type { ToolOutcome } from '../domain/sandbox.ts';
import type { ThreadContext } from '../domain/threads.ts';
import {
  threadSandboxRequestSignal,
  threadSandboxResultSignal,
  type ThreadSandboxRequest,
  type ThreadSandboxResult,
} from './thread-messages.ts';

export const sharedThreadSandboxPatch = 'threads-share-session-sandbox';

/** The thread's side: sends its sandboxed calls to the primary thread and waits for their outcomes. */
export class SharedSandboxClient {
  private readonly context: ThreadContext;
  private readonly results = new Map<string, ToolOutcome>();

  constructor(context: ThreadContext) {
    this.context = context;
  }

  /** Whether this call goes to the session's sandbox (false: the thread's own, as histories before the patch did). */
  static applies(context: ThreadContext | undefined): context is ThreadContext {
    return context !== undefined && patched(sharedThreadSandboxPatch);
  }

  async runTool(toolUseId: string, name: string, input: Record<string, unknown>, replyTo: string) {
    const request: ThreadSandboxRequest = { toolUseId, name, input, replyTo };
    await getExternalWorkflowHandle(this.context.parentWorkflowId).signal(threadSandboxRequestSignal, request);
    await condition(() => this.results.has(toolUseId));
    const outcome = this.results.get(toolUseId)!;
    this.results.delete(toolUseId);
    return outcome;
  }

  receive(result: ThreadSandboxResult): void {
    this.results.set(result.toolUseId, result.outcome);
  }
}

/** The primary's side: runs a thread's call on the session's lease and answers the thread. */
export async function serveThreadSandboxRequest(
  request: ThreadSandboxRequest,
  runTool: (toolUseId: string, name: string, input: Record<string, unknown>) => Promise<ToolOutcome>,
): Promise<void> {
  let outcome: ToolOutcome;
  try {
    outcome = await runTool(request.toolUseId, request.name, request.input);
  } catch (error) {
    const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : '';
    outcome = { content: `Tool ${request.name} failed: ${message || String(error)}`, isError: true };
  }
  const result: ThreadSandboxResult = { toolUseId: request.toolUseId, outcome };
  await getExternalWorkflowHandle(request.replyTo)
    .signal(threadSandboxResultSignal, result)
    .catch((error: unknown) =>
      log.warn('could not answer a thread', { replyTo: request.replyTo, error: String(error) }),
    );
}
