// Whether a session's turns run through the OpenAI Agents SDK: kept apart from the harness itself so that choosing
// loads nothing — the SDK's modules are evaluated only in workflows that run it (workflows/harness-turns.ts).
import { patched } from '@temporalio/workflow';
import type { SessionWorkflowInput } from '../../domain/session.ts';

/** Sessions of openai_agents agents (none existed before it) run their turns through the SDK's Runner. */
export const openAiAgentsHarnessPatch = 'openai-agents-harness';

export const isOpenAiAgentsTurn = (input: SessionWorkflowInput): boolean =>
  input.agent.harness?.type === 'openai_agents' && patched(openAiAgentsHarnessPatch);
