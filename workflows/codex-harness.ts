// The `codex` harness (AgentHarness in domain/agent.ts): Codex's app-server runs the turn inside the session's sandbox
// (activities/sandbox/codex-harness/), driven in steps by the in-sandbox harness turn
// (workflows/sandbox-harness.ts) through `runCodexStep` and `interruptCodex` on the sandbox's host queue.
import { patched } from '@temporalio/workflow';
import type { CodexHarnessActivities } from '../activities/sandbox/codex-harness/activities.ts';
import type { ThreadMessageReceivedEvent, UserMessageEvent } from '../domain/events.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import type { TurnAnswer } from './outcome.ts';
import {
  runSandboxHarnessTurn,
  sandboxHarnessActivities,
  type SandboxHarnessDriver,
  type SandboxHarnessHost,
} from './sandbox-harness.ts';

/** Sessions of Codex agents (none existed before it) hand their turns to Codex. */
export const codexHarnessPatch = 'codex-harness';

export const isCodexTurn = (input: SessionWorkflowInput): boolean =>
  input.agent.harness?.type === 'codex' && patched(codexHarnessPatch);

export type CodexTurnHost = SandboxHarnessHost;

const codexDriver: SandboxHarnessDriver = {
  name: 'Codex',
  activities(settings, hostQueue) {
    const activities = sandboxHarnessActivities<CodexHarnessActivities>(settings, hostQueue);
    return {
      runStep: (summary, input) => activities.runCodexStep.executeWithOptions({ summary }, [input]),
      interrupt: (input) => activities.interruptCodex(input),
    };
  },
};

/** One turn of a Codex session. */
export const runCodexTurn = (
  host: CodexTurnHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
): Promise<TurnAnswer> => runSandboxHarnessTurn(host, message, codexDriver);
