// Runs one approved tool call where it belongs: sandbox tools in the session's container, backend tools as an
// activity on the operator's queue, delegations to session threads (workflows/threads.ts), and (in histories recorded
// before threads) sub-agents as child sessions. Always yields a result for the model; a failure
// becomes an error result the model can read. Input the platform defines (domain/tools) is validated first, so an
// invalid call never acquires a container or starts a child session.
import { executeChild, patched, uuid4 } from '@temporalio/workflow';
import type { SubAgentTool } from '../domain/agent.ts';
import type { UserMessageEvent } from '../domain/events.ts';
import { makeId, sessionWorkflowId } from '../domain/ids.ts';
import type { ToolOutcome } from '../domain/sandbox.ts';
import { agentIdKey, environmentIdKey, sessionStatusKey, tenantIdKey } from '../domain/search-attributes.ts';
import { sessionWorkflowType, type SessionWorkflowInput, type SubAgentResult } from '../domain/session.ts';
import { toolDefinitionOf, type ToolRoute } from '../domain/tool-routing.ts';
import { checkToolInput } from '../domain/tools/tool-definition.ts';
import { backendToolActivity } from './activity-proxies.ts';
import { consultAdvisor, type AdvisorHost } from './advisor.ts';
import type { SandboxLeaseManager } from './sandbox-lease.ts';
import type { SessionThreads } from './threads.ts';

export interface ToolCall {
  /** The `agent.tool_use` event id, also the tool_use id the model sees. */
  eventId: string;
  name: string;
  input: Record<string, unknown>;
  route: ToolRoute;
}

/**
 * Histories recorded before input was validated in the workflow ran an invalid sandbox call in the container (whose
 * activity rejected it) and gave a sub-agent its input as JSON; they replay that way.
 */
export const validateToolInputPatch = 'validate-tool-input-before-sandbox';

export async function executeTool(
  call: ToolCall,
  session: SessionWorkflowInput,
  sandbox: SandboxLeaseManager,
  threads: SessionThreads,
  /** Where an advisor's request is journaled and counted (absent: a harness that offers no advisor). */
  advisorHost?: AdvisorHost,
): Promise<ToolOutcome> {
  const { route } = call;
  const invalid = invalidInput(call);
  // patched() only where the new branch differs: histories of valid calls carry no marker.
  if (invalid && patched(validateToolInputPatch)) return { content: invalid, isError: true };
  try {
    switch (route.kind) {
      case 'sandbox':
        return await sandbox.runTool(call.eventId, call.name, call.input);
      case 'backend': {
        const run = backendToolActivity(
          route.tool.task_queue,
          route.tool.activity ?? route.tool.name,
          route.tool.timeout_seconds ?? 60,
        );
        const output = await run({
          sessionId: session.sessionId,
          tenantId: session.tenantId,
          toolUseId: call.eventId,
          name: call.name,
          input: call.input,
        });
        return { content: output.content, isError: output.is_error ?? false };
      }
      case 'thread':
        return await threads.delegate(call);
      case 'advisor':
        return await consultAdvisor(call, route.model, session, advisorHost);
      case 'sub_agent': {
        const result = await runSubAgent(route.tool, call, session);
        return { content: result.text, isError: result.isError };
      }
      default:
        return { content: `Unknown tool "${call.name}".`, isError: true };
    }
  } catch (error) {
    return { content: `Tool ${call.name} failed: ${messageOf(error)}`, isError: true };
  }
}

async function runSubAgent(tool: SubAgentTool, call: ToolCall, parent: SessionWorkflowInput): Promise<SubAgentResult> {
  const prompt = typeof call.input.prompt === 'string' ? call.input.prompt : JSON.stringify(call.input);
  const sessionId = makeId('session', uuid4());
  const firstMessage: UserMessageEvent = {
    type: 'user.message',
    id: makeId('event', uuid4()),
    processed_at: null,
    content: [{ type: 'text', text: prompt }],
  };
  const input: SessionWorkflowInput = {
    sessionId,
    tenantId: parent.tenantId,
    title: `${tool.name}: sub-agent of ${parent.sessionId}`,
    agent: tool.agent,
    environment: parent.environment,
    vaultIds: parent.vaultIds,
    settings: parent.settings,
    parent: { sessionId: parent.sessionId, toolUseId: call.eventId },
    initialEvents: [firstMessage],
  };
  return executeChild<(input: SessionWorkflowInput) => Promise<SubAgentResult>>(sessionWorkflowType, {
    workflowId: sessionWorkflowId(sessionId),
    args: [input],
    memo: { title: input.title, parentSessionId: parent.sessionId },
    typedSearchAttributes: [
      { key: sessionStatusKey, value: 'idle' },
      { key: agentIdKey, value: tool.agent.id },
      { key: tenantIdKey, value: parent.tenantId },
      { key: environmentIdKey, value: parent.environment.id },
    ],
    staticSummary: `sub-agent ${tool.agent.name}`,
  });
}

/** The sentence the model reads when the call's input does not match the tool's definition. */
function invalidInput(call: ToolCall): string | undefined {
  const definition = toolDefinitionOf(call.route);
  if (!definition) return undefined;
  const checked = checkToolInput(definition, call.input);
  return checked.ok ? undefined : checked.message;
}

function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && 'cause' in error && error.cause instanceof Error)
    return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
