// The Codex harness's activities, on the sandbox host queue (the host that holds the session's container):
// `runCodexStep` runs one step of a turn — starts a turn with the user's message, or answers the approval Codex waits
// on — and reads Codex's notifications until the turn ends or waits for the client, heartbeating while it reads;
// `interruptCodex` interrupts the turn in flight. Codex reaches its model only through the platform's model gateway
// (its OpenAI Responses route), with a session token minted here: the provider key never enters the sandbox.
import { Context } from '@temporalio/activity';
import type Docker from 'dockerode';
import type pg from 'pg';
import type {
  ClaudeStepInput as HarnessStepInput,
  ClaudeStepResult as HarnessStepResult,
  HarnessStep,
  InterruptClaudeInput as InterruptHarnessInput,
} from '../../../domain/contracts/claude-harness.ts';
import { mintGatewayToken, revokeSessionGatewayTokens } from '../../../db/repositories/model-gateway-tokens.ts';
import { HarnessSessions } from '../harness-sessions.ts';
import type { EgressGateway } from '../egress/gateway.ts';
import { killCodexProcess } from './app-server.ts';
import { LiveCodexSession } from './live-session.ts';
import { codexHome, codexRuntimeDir } from './runtime.ts';

export interface CodexHarnessDeps {
  docker: Docker;
  pool: pg.Pool;
  /** The model gateway as sandboxes reach it (through their egress proxy). */
  gatewayUrl: string;
  egress?: EgressGateway;
}

/** The variable Codex reads its provider key from: here the session's gateway token. */
const tokenVariable = 'AGENTS_MODEL_GATEWAY_TOKEN';

/** Codex's configuration: the gateway as its only model provider, the agent's model, no update check. */
function codexConfig(gatewayUrl: string, model: string): string[] {
  const baseUrl = `${gatewayUrl.replace(/\/+$/, '')}/v1`;
  return [
    `model_providers.platform={ name = "platform", base_url = ${JSON.stringify(baseUrl)}, wire_api = "responses", env_key = "${tokenVariable}" }`,
    'model_provider="platform"',
    `model=${JSON.stringify(model)}`,
    'check_for_update_on_startup=false',
  ];
}

/** What Codex is told when the approval an answer was for is gone (this process started after it asked). */
function answerInWords(step: Exclude<HarnessStep, { kind: 'message' }>): string {
  if (step.kind === 'confirmation') {
    return step.allow
      ? 'Your last command was interrupted before it ran; the user has approved it: run it again.'
      : `Your last command was interrupted; the user denied it${step.denyMessage ? `: ${step.denyMessage}` : '.'}`;
  }
  return `Your last tool call was interrupted; its result is:\n${step.text}`;
}

export function createCodexHarnessActivities(deps: CodexHarnessDeps) {
  const sessions = new HarnessSessions<LiveCodexSession>(deps.pool);

  async function start(input: HarnessStepInput): Promise<LiveCodexSession> {
    const container = deps.docker.getContainer(input.lease.containerId);
    // A process an earlier (killed) worker left behind would write the same rollout.
    await killCodexProcess(container).catch(() => undefined);
    await deps.egress?.ensure(input.lease.containerId); // a restarted worker re-attaches the sandbox's relay
    await revokeSessionGatewayTokens(deps.pool, input.sessionId);
    const token = await mintGatewayToken(deps.pool, {
      tenantId: input.tenantId,
      sessionId: input.sessionId,
      model: input.model,
      ...(input.tokenBudget !== undefined ? { tokenBudget: input.tokenBudget } : {}),
    });
    const bash = input.tools.find((tool) => tool.name === 'bash');
    return LiveCodexSession.start({
      container,
      containerId: input.lease.containerId,
      model: input.model,
      config: codexConfig(deps.gatewayUrl, input.model),
      approvalPolicy: bash?.policy === 'always_ask' ? 'untrusted' : 'never',
      ...(input.systemPrompt ? { developerInstructions: input.systemPrompt } : {}),
      customTools: input.customTools,
      env: {
        ...deps.egress?.execEnv(input.lease.containerId),
        PATH: `${codexRuntimeDir}/codex-path:/usr/local/bin:/usr/bin:/bin`,
        HOME: codexHome,
        CODEX_HOME: codexHome,
        [tokenVariable]: token,
      },
    });
  }

  async function runCodexStep(input: HarnessStepInput): Promise<HarnessStepResult> {
    let session = sessions.current(input.sessionId, input.lease.containerId);
    const { step } = input;
    // The step's message carries an id of the step's activity (the same on every attempt): a retry whose earlier
    // attempt had put it into the thread runs the thread as it stands instead of sending it again.
    const { workflowExecution, activityId } = Context.current().info;
    const messageId = `${workflowExecution?.runId ?? ''}/${activityId}`;
    if (!session) {
      session = await start(input);
      sessions.add(input.sessionId, session);
      if (step.kind !== 'message') await session.send(answerInWords(step));
      else if (session.holds(messageId)) await session.rerun();
      else await session.send(step.text, messageId);
    } else if (step.kind === 'message') {
      await session.send(step.text, messageId);
    } else {
      if (!session.answer(step)) await session.send(answerInWords(step));
    }
    return sessions.untilPause(input.sessionId, session);
  }

  const interruptCodex = (input: InterruptHarnessInput): Promise<void> => sessions.interrupt(input.sessionId);

  /** The session's sandbox is going: its harness process stops and its gateway tokens stop working. */
  const releaseCodexSession = (sessionId: string): Promise<void> => sessions.release(sessionId);

  return { activities: { runCodexStep, interruptCodex }, releaseCodexSession };
}

export type CodexHarnessActivities = ReturnType<typeof createCodexHarnessActivities>['activities'];
