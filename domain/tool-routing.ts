// Which tools an agent offers the model, where each one runs and under which permission policy. Pure: the workflow
// decides with it, tests check it directly.
import type { AgentSnapshot, BackendTool, PermissionPolicy, SubAgentTool } from './agent.ts';
import type { ToolSpec } from './model.ts';
import { isSandboxToolName, sandboxToolNames, type SandboxToolName } from './sandbox.ts';
import { inlineAgentsEnabled } from './inline-agents.ts';
import { enabledSandboxTools, sandboxTools } from './tools/sandbox-tools.ts';
import type { McpToolEntry } from './tools/mcp-tools.ts';
import { advisorToolDefinition, advisorToolName } from './tools/advisor-tool.ts';
import { delegateToolDefinition, delegateToolName } from './tools/delegate-tool.ts';
import { subAgentToolDefinition } from './tools/sub-agent-tool.ts';
import { toolSpecOf, type ToolDefinition } from './tools/tool-definition.ts';
import { workflowRunToolDefinition, workflowRunToolName } from './tools/workflow-run-tool.ts';
import { workflowRunsEnabled } from './workflow-runs.ts';

export type ToolRoute =
  | { kind: 'sandbox'; name: SandboxToolName; policy: PermissionPolicy['type'] }
  /** A built-in tool of a self-hosted environment: run by the customer's runner (domain/runner-routing.ts). */
  | { kind: 'runner'; name: SandboxToolName; policy: PermissionPolicy['type'] }
  | { kind: 'custom'; name: string }
  | { kind: 'backend'; tool: BackendTool; policy: PermissionPolicy['type'] }
  | { kind: 'sub_agent'; tool: SubAgentTool; policy: PermissionPolicy['type'] }
  | { kind: 'mcp'; entry: McpToolEntry; policy: PermissionPolicy['type'] }
  /** A coordinator's delegation to a session thread (workflows/threads.ts). */
  | { kind: 'thread'; policy: PermissionPolicy['type'] }
  /** The primary thread's advisor, a side model call (workflows/advisor.ts). */
  | { kind: 'advisor'; model: string; policy: PermissionPolicy['type'] }
  /** A coordinator's fan-out plan, run by the primary thread (workflows/workflow-runs.ts). */
  | { kind: 'workflow_run'; policy: PermissionPolicy['type'] }
  | { kind: 'unknown'; name: string };

const allow = 'always_allow' as const;

/** A coordinator delegates unless `subagents` is disabled or it has no agent to delegate to (listed or inline). */
const delegationEnabled = (agent: AgentSnapshot): boolean =>
  agent.multiagent !== undefined &&
  agent.multiagent.subagents !== false &&
  (agent.multiagent.agents.length > 0 || inlineAgentsEnabled(agent));

/** `mcpTools`: the session's discovered MCP tools (mcpToolEntries), routed after the agent's own tools. */
export function routeTool(agent: AgentSnapshot, name: string, mcpTools: McpToolEntry[] = []): ToolRoute {
  if (isSandboxToolName(name)) {
    const policy = enabledSandboxTools(agent.tools).get(name);
    if (policy) return { kind: 'sandbox', name, policy };
  }
  for (const tool of agent.tools) {
    if (tool.type === 'custom' && tool.name === name) return { kind: 'custom', name };
    if (tool.type === 'backend' && tool.name === name) {
      return { kind: 'backend', tool, policy: tool.permission_policy?.type ?? allow };
    }
    if (tool.type === 'sub_agent' && tool.name === name) {
      return { kind: 'sub_agent', tool, policy: tool.permission_policy?.type ?? allow };
    }
  }
  if (delegationEnabled(agent) && name === delegateToolName) return { kind: 'thread', policy: allow };
  const advisor = agent.multiagent?.advisor;
  if (advisor && name === advisorToolName) return { kind: 'advisor', model: advisor.model, policy: allow };
  if (workflowRunsEnabled(agent) && name === workflowRunToolName) return { kind: 'workflow_run', policy: allow };
  const mcp = mcpTools.find((entry) => entry.modelName === name);
  if (mcp) return { kind: 'mcp', entry: mcp, policy: mcp.policy };
  return { kind: 'unknown', name };
}

/**
 * The platform's own definition of a routed tool's input, which the workflow validates before running the call;
 * undefined where the input is the agent author's JSON schema (custom and backend tools) or there is no tool.
 */
export function toolDefinitionOf(route: ToolRoute): ToolDefinition | undefined {
  switch (route.kind) {
    case 'sandbox':
      return sandboxTools[route.name];
    case 'sub_agent':
      return subAgentToolDefinition(route.tool);
    case 'advisor':
      return advisorToolDefinition(route.model);
    default:
      return undefined;
  }
}

const sandboxToolSpecs = Object.fromEntries(
  sandboxToolNames.map((name) => [name, toolSpecOf(sandboxTools[name])]),
) as Record<SandboxToolName, ToolSpec>;

/** The tool list sent with every model call. */
export function toolSpecsFor(agent: AgentSnapshot): ToolSpec[] {
  const specs: ToolSpec[] = [...enabledSandboxTools(agent.tools).keys()].map((name) => sandboxToolSpecs[name]);
  for (const tool of agent.tools) {
    if (tool.type === 'custom' || tool.type === 'backend') {
      specs.push({ name: tool.name, description: tool.description, inputSchema: tool.input_schema });
    } else if (tool.type === 'sub_agent') {
      specs.push(toolSpecOf(subAgentToolDefinition(tool)));
    }
  }
  if (delegationEnabled(agent)) specs.push(toolSpecOf(delegateToolDefinition(agent)));
  if (agent.multiagent?.advisor) specs.push(toolSpecOf(advisorToolDefinition(agent.multiagent.advisor.model)));
  if (workflowRunsEnabled(agent)) specs.push(toolSpecOf(workflowRunToolDefinition(agent)));
  return specs;
}
