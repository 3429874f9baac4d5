// Where a session's tools run once its environment is known: in a `self_hosted` environment the built-in toolset runs
// on the customer's runner (route kind `runner`), offered to the model with the runner's own input shapes; every
// other tool routes as anywhere else (domain/tool-routing.ts).
import type { AgentSnapshot } from './agent.ts';
import type { ToolSpec } from './model.ts';
import { runnerToolSpecs } from './tools/runner-tools.ts';
import { isSandboxToolName } from './sandbox.ts';
import type { EnvironmentSnapshot } from './session.ts';
import type { McpToolEntry } from './tools/mcp-tools.ts';
import { routeTool, toolSpecsFor, type ToolRoute } from './tool-routing.ts';

export function routeSessionTool(
  agent: AgentSnapshot,
  environment: EnvironmentSnapshot,
  name: string,
  mcpTools: McpToolEntry[] = [],
): ToolRoute {
  const route = routeTool(agent, name, mcpTools);
  return environment.selfHosted && route.kind === 'sandbox' ? { ...route, kind: 'runner' } : route;
}

/** The tool list sent with every model call of the session. */
export function sessionToolSpecs(agent: AgentSnapshot, environment: EnvironmentSnapshot): ToolSpec[] {
  const specs = toolSpecsFor(agent);
  if (!environment.selfHosted) return specs;
  return specs.map((spec) => (isSandboxToolName(spec.name) ? runnerToolSpecs[spec.name] : spec));
}
