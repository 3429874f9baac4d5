// The system prompt of a session's model calls: the agent's own, its pinned skills' section, then the session's pinned
// context (the attached memory stores' section).
import { withSystemContext, type AgentSnapshot } from './agent.ts';
import type { SessionWorkflowInput } from './session.ts';
import { runnerSkillsDir, skillsMountDir, systemWithSkills } from './skills.ts';

export function sessionSystemPrompt(input: SessionWorkflowInput, agent: AgentSnapshot): string | undefined {
  const skillsDir = input.environment.selfHosted ? runnerSkillsDir : skillsMountDir;
  return withSystemContext(systemWithSkills(agent.system, agent.skills, skillsDir) ?? null, input.systemContext);
}
