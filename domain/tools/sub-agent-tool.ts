// A sub-agent tool: the agent's own name and description, and one input, the task for the child agent.
import { z } from 'zod';
import type { SubAgentTool } from '../agent.ts';
import { defineTool, type ToolDefinition } from './tool-definition.ts';

export function subAgentToolDefinition(tool: SubAgentTool): ToolDefinition {
  return defineTool({
    name: tool.name,
    description: tool.description,
    input: z.object({ prompt: z.string().describe(`The task for the ${tool.agent.name} agent.`) }),
  });
}
