// The `claude_agent_sdk` harness (AgentHarness in domain/agent.ts): Claude Code runs the turn inside the session's
// sandbox (activities/sandbox/claude-harness/), driven in steps by the in-sandbox harness turn
// (workflows/sandbox-harness.ts) through `runClaudeStep` and `interruptClaude` on the sandbox's host queue.
import { patched } from '@temporalio/workflow';
import type { ClaudeHarnessActivities } from '../activities/sandbox/claude-harness/activities.ts';
import type { ThreadMessageReceivedEvent, UserMessageEvent } from '../domain/events.ts';
import type { SessionWorkflowInput } from '../domain/session.ts';
import type { TurnAnswer } from './outcome.ts';
import {
  runSandboxHarnessTurn,
  sandboxHarnessActivities,
  type SandboxHarnessDriver,
  type SandboxHarnessHost,
} from './sandbox-harness.ts';

/** Sessions of Claude Agent SDK agents (none existed before it) hand their turns to Claude Code. */
export const claudeHarnessPatch = 'claude-agent-sdk-harness';

export const isClaudeTurn = (input: SessionWorkflowInput): boolean =>
  input.agent.harness?.type === 'claude_agent_sdk' && patched(claudeHarnessPatch);

export type ClaudeTurnHost = SandboxHarnessHost;

const claudeDriver: SandboxHarnessDriver = {
  name: 'Claude Code',
  activities(settings, hostQueue) {
    const activities = sandboxHarnessActivities<ClaudeHarnessActivities>(settings, hostQueue);
    return {
      runStep: (summary, input) => activities.runClaudeStep.executeWithOptions({ summary }, [input]),
      interrupt: (input) => activities.interruptClaude(input),
    };
  },
};

/** One turn of a Claude Agent SDK session. */
export const runClaudeTurn = (
  host: ClaudeTurnHost,
  message: UserMessageEvent | ThreadMessageReceivedEvent | undefined,
): Promise<TurnAnswer> => runSandboxHarnessTurn(host, message, claudeDriver);
