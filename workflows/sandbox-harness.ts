// The turn of a harness that runs inside the session's sandbox (Claude Code: workflows/claude-harness.ts; Codex:
// workflows/codex-harness.ts), driven from here in steps. A step sends the user's message (or an answer) and returns
// when the turn ends or waits for the client; the step's events go to the journal in the native loop's order. An
// `always_ask` tool's permission request and a custom tool's call become the same pending actions as in the native
// loop — `agent.tool_use` (ask) / `agent.custom_tool_use`, idle with `requires_action`, answered through the
// session's events endpoint — and the answer is the next step. An interrupt runs the harness's interrupt activity
// beside the step in flight; the step then ends and the turn with it. Durable: a step is an activity with heartbeats;
// a step retried on another worker process resumes the harness's conversation, which lives in the workspace (and so
// in its snapshots).
import { condition, proxyActivities } from '@temporalio/workflow';
import type {
  ClaudeStepInput,
  ClaudeStepResult,
  HarnessPause,
  HarnessStep,
  InterruptClaudeInput,
} from '../domain/contracts/claude-harness.ts';
import { nonRetryableFailureTypes } from '../domain/errors.ts';
import type { ThreadMessageReceivedEvent, UserMessageEvent } from '../domain/events.ts';
import type { ModelUsage } from '../domain/model.ts';
import { routeSessionTool, sessionToolSpecs } from '../domain/runner-routing.ts';
import type { SandboxLease } from '../domain/sandbox.ts';
import type { SessionSettings } from '../domain/session.ts';
import { sessionSystemPrompt } from '../domain/system-prompt.ts';
import type { EventJournal } from './event-journal.ts';
import type { TurnAnswer } from './outcome.ts';
import type { PendingEntry } from './runner-work.ts';
import type { SessionRuntime } from './session-runtime.ts';
import type { SessionStatusTracker } from './session-status.ts';

export interface SandboxHarnessHost {
  journal: EventJournal;
  status: SessionStatusTracker;
  interrupted: () => boolean;
  addUsage(usage: ModelUsage): void;
  session: Pick<SessionRuntime, 'input' | 'sandbox' | 'stats' | 'pending'>;
}

/** The step and interrupt activities of one in-sandbox harness on a host's queue. */
export interface SandboxHarnessActivities {
  runStep(summary: string, input: ClaudeStepInput): Promise<ClaudeStepResult>;
  interrupt(input: InterruptClaudeInput): Promise<void>;
}

export interface SandboxHarnessDriver {
  /** How the harness is named in step summaries and errors, e.g. `Claude Code`. */
  name: string;
  activities(settings: SessionSettings, hostQueue: string): SandboxHarnessActivities;
}

/** The activity options of in-sandbox harness steps, on the host queue that holds the session's container. */
export function sandboxHarnessActivities<T extends object>(settings: SessionSettings, hostQueue: string) {
  return proxyActivities<T>({
    taskQueue: hostQueue,
    scheduleToStartTimeout: settings.sandboxHostTimeoutMs,
    // A step is a whole stretch of a turn (model calls and tools): bounded by heartbeats, not by its length.
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: settings.sandboxHeartbeatTimeoutMs,
    retry: {
      initialInterval: '1s',
      maximumInterval: '10s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: nonRetryableFailureTypes,
    },
  });
}

const textOf = (message: UserMessageEvent | ThreadMessageReceivedEvent | undefined): string =>
  (message?.content ?? []).map((block) => (block.type === 'text' ? block.text : '')).join('');

/** One turn of an in-sandbox harness's session. */
export async function runSandboxHarnessTurn(
  host: SandboxHarnessHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
  driver: SandboxHarnessDriver,
): Promise<TurnAnswer> {
  let step: HarnessStep = { kind: 'message', text: textOf(message) };
  let lastText = '';
  for (;;) {
    const result = await runStep(host, step, driver);
    for (const event of result.events) {
      host.journal.emit(event);
      if (event.type === 'agent.message') lastText = event.content.map((block) => block.text).join('');
      if (event.type === 'span.model_request_end' && !event.is_error) host.session.stats.modelCalls++;
      if (event.type === 'agent.tool_result') host.session.stats.toolCalls++;
    }
    host.addUsage(result.usage);
    const { pause } = result;
    if (pause.kind === 'end') {
      return { text: lastText, stop: pause.stop === 'error' ? { type: 'retries_exhausted' } : { type: 'end_turn' } };
    }
    const answer = await awaitClient(host, pause);
    if (!answer) {
      const lease = host.session.sandbox.lease;
      if (lease)
        await driver.activities(host.session.input.settings, lease.hostQueue).interrupt(stepTarget(host, lease));
      return { text: lastText, stop: { type: 'end_turn' } };
    }
    step = answer;
  }
}

const stepTarget = (host: SandboxHarnessHost, lease: SandboxLease) => ({
  lease,
  sessionId: host.session.input.sessionId,
});

/** Runs one step; an interrupt meanwhile interrupts the harness, and the step returns what it had done. */
async function runStep(
  host: SandboxHarnessHost,
  step: HarnessStep,
  driver: SandboxHarnessDriver,
): Promise<ClaudeStepResult> {
  const { input } = host.session;
  const lease = await host.session.sandbox.claimForHarness();
  const activities = driver.activities(input.settings, lease.hostQueue);
  const tools = sessionToolSpecs(input.agent, input.environment);
  const routes = tools.map((spec) => ({ spec, route: routeSessionTool(input.agent, input.environment, spec.name) }));
  let settled = false;
  const running = activities
    .runStep(`${driver.name.toLowerCase()}: ${step.kind}`, {
      lease,
      tenantId: input.tenantId,
      sessionId: input.sessionId,
      model: input.agent.model.id,
      ...(input.agent.limits?.token_budget !== undefined ? { tokenBudget: input.agent.limits.token_budget } : {}),
      systemPrompt: sessionSystemPrompt(input, input.agent),
      tools: routes.flatMap(({ route }) =>
        route.kind === 'sandbox'
          ? [
              {
                name: route.name,
                policy: route.policy === 'always_ask' ? ('always_ask' as const) : ('always_allow' as const),
              },
            ]
          : [],
      ),
      customTools: routes.flatMap(({ spec, route }) => (route.kind === 'custom' ? [spec] : [])),
      step,
    })
    .finally(() => (settled = true));
  await condition(() => settled || host.interrupted());
  if (!settled) await activities.interrupt(stepTarget(host, lease));
  try {
    return await running;
  } catch (error) {
    host.session.sandbox.forgetLost(lease);
    const reason = error instanceof Error ? error.message : String(error);
    return {
      events: [
        {
          type: 'session.error',
          id: host.journal.newId(),
          error: {
            type: 'harness_error',
            message: `${driver.name} failed: ${reason}`,
            retry_status: { type: 'exhausted' },
          },
        },
      ],
      usage: { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 },
      pause: { kind: 'end', stop: 'error' },
    };
  }
}

/** The native loop's wait for the client; the answer as the next step, or undefined on an interrupt. */
async function awaitClient(
  host: SandboxHarnessHost,
  pause: Exclude<HarnessPause, { kind: 'end' }>,
): Promise<HarnessStep | undefined> {
  const { input, pending } = host.session;
  const { eventId, name } = pause;
  const call = { eventId, name, input: pause.input, route: routeSessionTool(input.agent, input.environment, name) };
  let entry: PendingEntry;
  if (pause.kind === 'confirmation') {
    host.journal.emit({ type: 'agent.tool_use', id: eventId, name, input: pause.input, evaluated_permission: 'ask' });
    entry = { eventId, kind: 'confirmation', name, call };
  } else {
    host.journal.emit({ type: 'agent.custom_tool_use', id: eventId, name, input: pause.input });
    entry = { eventId, kind: 'custom_tool_result', name, call };
  }
  pending.set(eventId, entry);
  host.status.idle({ type: 'requires_action', event_ids: [eventId] });
  await condition(() => host.interrupted() || entry.resolution !== undefined);
  pending.delete(eventId);
  const resolution = entry.resolution;
  if (host.interrupted() || !resolution) return undefined;
  host.status.running();
  if ('custom' in resolution) {
    return { kind: 'custom_tool_result', eventId, text: resolution.text, isError: resolution.isError };
  }
  return {
    kind: 'confirmation',
    eventId,
    allow: resolution.allow,
    ...(resolution.denyMessage ? { denyMessage: resolution.denyMessage } : {}),
  };
}
