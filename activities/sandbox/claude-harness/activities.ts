// The Claude Agent SDK harness's activities, on the sandbox host queue (the host that holds the session's
// container): `runClaudeStep` runs one step of a turn — sends the user's message or answer to the session's Claude
// Code and reads its stream until the turn ends or waits for the client — heartbeating while it reads;
// `interruptClaude` interrupts the step in flight. Claude Code reaches its model only through the platform's model
// gateway, with a session token minted here (the provider key never enters the sandbox).
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type pg from 'pg';
import type {
  ClaudeStepInput,
  ClaudeStepResult,
  HarnessStep,
  InterruptClaudeInput,
} from '../../../domain/contracts/claude-harness.ts';
import { mintGatewayToken, revokeSessionGatewayTokens } from '../../../db/repositories/model-gateway-tokens.ts';
import { HarnessSessions } from '../harness-sessions.ts';
import { runProcess } from '../docker-stream.ts';
import type { EgressGateway } from '../egress/gateway.ts';
import { killClaudeProcess } from './container-process.ts';
import { LiveClaudeSession } from './live-session.ts';
import { claudeConfigDir } from './runtime.ts';

export interface ClaudeHarnessDeps {
  docker: Docker;
  pool: pg.Pool;
  /** The model gateway as sandboxes reach it (through their egress proxy). */
  gatewayUrl: string;
  /** The host's egress proxy: Claude Code's requests go through it like every process's in the sandbox. */
  egress?: EgressGateway;
}

/** A UUID (version 4 layout) derived from a name: the same name gives the same UUID on every host. */
function uuidOf(name: string): `${string}-${string}-${string}-${string}-${string}` {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Claude Code's session id for a platform session: a UUID derived from it, the same on every host. */
export const claudeSessionIdOf = (sessionId: string): string => uuidOf(sessionId);

/**
 * The id of a step's user message in Claude Code's transcript: derived from the step's activity (its run and
 * activity id), so every attempt of the step names the same message and a retry can see it was already sent.
 */
function stepMessageUuid() {
  const { workflowExecution, activityId } = Context.current().info;
  return uuidOf(`${workflowExecution?.runId ?? ''}/${activityId}`);
}

/** What Claude Code is told when the callback an answer was for is gone (this process started after it asked). */
function answerInWords(step: Exclude<HarnessStep, { kind: 'message' }>): string {
  if (step.kind === 'confirmation') {
    return step.allow
      ? 'Your last tool call was interrupted before it ran; the user has approved it: run it again.'
      : `Your last tool call was interrupted; the user denied it${step.denyMessage ? `: ${step.denyMessage}` : '.'}`;
  }
  return `Your last tool call was interrupted; its result is:\n${step.text}`;
}

export function createClaudeHarnessActivities(deps: ClaudeHarnessDeps) {
  const sessions = new HarnessSessions<LiveClaudeSession>(deps.pool);

  /**
   * Starts the session's Claude Code, resuming the workspace's transcript when there is one. `sentMessage`: the
   * id of the step's user message; when an earlier attempt of the step already wrote it to the transcript, Claude
   * Code re-runs that interrupted turn itself (CLAUDE_CODE_RESUME_INTERRUPTED_TURN) and the message is not sent
   * again — so the transcript, and the model's requests, hold it once.
   */
  async function start(
    input: ClaudeStepInput,
    sentMessage: ReturnType<typeof stepMessageUuid> | undefined,
  ): Promise<{ session: LiveClaudeSession; rerun: boolean }> {
    const container = deps.docker.getContainer(input.lease.containerId);
    // A process an earlier (killed) worker left behind would write the same transcript.
    await killClaudeProcess(container, 'KILL').catch(() => undefined);
    await deps.egress?.ensure(input.lease.containerId); // a restarted worker re-attaches the sandbox's relay
    const claudeSessionId = claudeSessionIdOf(input.sessionId);
    const transcript = `${claudeConfigDir}/projects/-workspace/${claudeSessionId}.jsonl`;
    const probe = await runProcess(container, { argv: ['test', '-s', transcript], maxBytes: 1024 });
    const rerun =
      probe.exitCode === 0 &&
      sentMessage !== undefined &&
      (await runProcess(container, { argv: ['grep', '-qF', `"uuid":"${sentMessage}"`, transcript], maxBytes: 1024 }))
        .exitCode === 0;
    await revokeSessionGatewayTokens(deps.pool, input.sessionId);
    const token = await mintGatewayToken(deps.pool, {
      tenantId: input.tenantId,
      sessionId: input.sessionId,
      model: input.model,
      ...(input.tokenBudget !== undefined ? { tokenBudget: input.tokenBudget } : {}),
    });
    const session = new LiveClaudeSession({
      container,
      containerId: input.lease.containerId,
      model: input.model,
      claudeSessionId,
      resume: probe.exitCode === 0,
      ...(input.systemPrompt ? { systemPrompt: input.systemPrompt } : {}),
      tools: input.tools,
      customTools: input.customTools,
      env: {
        ...deps.egress?.execEnv(input.lease.containerId),
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: claudeConfigDir,
        CLAUDE_CONFIG_DIR: claudeConfigDir,
        ANTHROPIC_BASE_URL: deps.gatewayUrl,
        ANTHROPIC_API_KEY: token,
        // Every model request of Claude Code's (background ones included) is for the agent's model.
        ANTHROPIC_SMALL_FAST_MODEL: input.model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: input.model,
        ANTHROPIC_DEFAULT_SONNET_MODEL: input.model,
        ANTHROPIC_DEFAULT_OPUS_MODEL: input.model,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
        ...(rerun ? { CLAUDE_CODE_RESUME_INTERRUPTED_TURN: '1', CLAUDE_CODE_RESUME_REASON: 'worker_restart' } : {}),
      },
    });
    return { session, rerun };
  }

  async function runClaudeStep(input: ClaudeStepInput): Promise<ClaudeStepResult> {
    let session = sessions.current(input.sessionId, input.lease.containerId);
    const { step } = input;
    const messageId = step.kind === 'message' ? stepMessageUuid() : undefined;
    if (!session) {
      const started = await start(input, messageId);
      session = started.session;
      sessions.add(input.sessionId, session);
      if (!started.rerun) session.send(step.kind === 'message' ? step.text : answerInWords(step), messageId);
    } else if (step.kind === 'message') {
      session.send(step.text, messageId);
    } else {
      const answer =
        step.kind === 'confirmation'
          ? step.allow
            ? { behavior: 'allow' as const }
            : { behavior: 'deny' as const, message: step.denyMessage ?? 'The user denied this tool call.' }
          : { text: step.text, isError: step.isError };
      if (!session.answer(step.eventId, answer)) session.send(answerInWords(step));
    }
    return sessions.untilPause(input.sessionId, session);
  }

  const interruptClaude = (input: InterruptClaudeInput): Promise<void> => sessions.interrupt(input.sessionId);

  /** The session's sandbox is going: its harness process stops and its gateway tokens stop working. */
  const releaseClaudeSession = (sessionId: string): Promise<void> => sessions.release(sessionId);

  return { activities: { runClaudeStep, interruptClaude }, releaseClaudeSession };
}

export type ClaudeHarnessActivities = ReturnType<typeof createClaudeHarnessActivities>['activities'];
