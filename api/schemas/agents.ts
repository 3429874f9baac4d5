// Agent request and response schemas: Anthropic's agent object plus this platform's extensions (model provider and
// base_url, `backend` and `sub_agent` tools, `limits`).
import { z } from 'zod';
import { sandboxToolNames } from '../../domain/sandbox.ts';
import { metadataPatchSchema, metadataSchema } from './common.ts';

export const permissionPolicySchema = z.object({ type: z.enum(['always_allow', 'always_ask']) });
/** MCP tools also take `auto`: the platform decides per call from the tool's annotations (README). */
const mcpPermissionPolicySchema = z.object({ type: z.enum(['always_allow', 'always_ask', 'auto']) });

const toolsetToolName = z.enum([...sandboxToolNames, 'web_fetch', 'web_search']);

const toolsetSchema = z.object({
  type: z.literal('agent_toolset_20260401'),
  default_config: z
    .object({ enabled: z.boolean().nullish(), permission_policy: permissionPolicySchema.nullish() })
    .nullish(),
  configs: z
    .array(
      z.object({
        name: toolsetToolName,
        type: toolsetToolName.optional(),
        enabled: z.boolean().nullish(),
        permission_policy: permissionPolicySchema.nullish(),
      }),
    )
    .max(16)
    .optional(),
});

const mcpToolsetSchema = z.object({
  type: z.literal('mcp_toolset'),
  mcp_server_name: z.string().min(1).max(255),
  default_config: z
    .object({ enabled: z.boolean().nullish(), permission_policy: mcpPermissionPolicySchema.nullish() })
    .nullish(),
  configs: z
    .array(
      z.object({
        name: z.string().min(1).max(128),
        enabled: z.boolean().nullish(),
        permission_policy: mcpPermissionPolicySchema.nullish(),
      }),
    )
    .max(128)
    .optional(),
});

const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'tool names are 1-128 of [A-Za-z0-9_-]');
const inputSchemaSchema = z.looseObject({
  type: z.literal('object'),
  properties: z.record(z.string(), z.unknown()).nullish(),
  required: z.array(z.string()).nullish(),
});

const customToolSchema = z.object({
  type: z.literal('custom'),
  name: toolName,
  description: z.string().min(1).max(1024),
  input_schema: inputSchemaSchema,
});

const backendToolSchema = z.object({
  type: z.literal('backend'),
  name: toolName,
  description: z.string().min(1).max(1024),
  input_schema: inputSchemaSchema,
  task_queue: z.string().min(1).max(256),
  activity: z.string().min(1).max(256).optional(),
  permission_policy: permissionPolicySchema.optional(),
  timeout_seconds: z.number().int().min(1).max(86_400).optional(),
});

const agentReferenceSchema = z.union([
  z.string().min(1).max(128),
  z.object({
    type: z.literal('agent'),
    id: z.string().min(1).max(128),
    version: z.number().int().min(1).max(2_147_483_647).optional(),
  }),
]);

/** Retired (400 on create and update; use `multiagent`): parsed only so the refusal can say so. */
const subAgentToolSchema = z.object({
  type: z.literal('sub_agent'),
  name: toolName,
  description: z.string().min(1).max(1024),
  agent: agentReferenceSchema,
  permission_policy: permissionPolicySchema.optional(),
});

export const agentToolSchema = z.discriminatedUnion('type', [
  toolsetSchema,
  mcpToolsetSchema,
  customToolSchema,
  backendToolSchema,
  subAgentToolSchema,
]);

export const modelSchema = z.union([
  z.string().min(1).max(256),
  z.object({
    id: z.string().min(1).max(256),
    speed: z.enum(['standard', 'fast']).nullish(),
    provider: z.enum(['anthropic', 'openai-chat', 'openai-responses']).optional(),
    base_url: z.url().optional(),
  }),
]);

const limitsSchema = z.object({
  max_turns: z.number().int().min(1).max(10_000).optional(),
  max_output_tokens: z.number().int().min(1).max(1_000_000).optional(),
  token_budget: z.number().int().min(1).optional(),
});

/** Extension (domain/agent.ts AgentHarness): an unknown `type` is a 400 like any invalid field. */
export const harnessSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('native') }),
    z.object({
      type: z.literal('code'),
      name: z.string().min(1).max(256),
      task_queue: z.string().min(1).max(256),
    }),
    z.object({ type: z.literal('openai_agents') }),
    z.object({ type: z.literal('claude_agent_sdk') }),
    z.object({ type: z.literal('codex') }),
  ])
  .meta({
    description:
      'Which loop runs the turns: native (default), code (an operator-defined handler, sdk/), openai_agents (the ' +
      "OpenAI Agents SDK Runner), claude_agent_sdk (Claude Code in the session's sandbox) or codex (Codex's app-server " +
      "in the session's sandbox)",
  });

const mcpServerSchema = z.object({ type: z.literal('url'), name: z.string().min(1).max(255), url: z.url() });
const skillSchema = z.object({
  type: z.enum(['anthropic', 'custom']),
  skill_id: z.string().min(1),
  version: z.string().nullish(),
});

/** Anthropic's coordinator topology: 1–20 roster entries (an agent id, a versioned reference, `self`, an advisor). */
const selfSchema = z.object({ type: z.literal('self') });
const advisorModel = z.string().min(1).max(256);
const rosterEntrySchema = z.union([
  agentReferenceSchema,
  selfSchema,
  z.object({ type: z.literal('advisor'), model: advisorModel }),
]);
const coordinatorSchema = z.object({
  type: z.literal('coordinator'),
  agents: z.array(rosterEntrySchema).min(1).max(20),
});

/** Anthropic's `multiagent_20261001`: advisor, subagents and workflows, each enabled or disabled on its own. */
const disabledSchema = z.object({ type: z.literal('disabled') });
const memberSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('enabled'),
    inline_agents: z.object({ type: z.enum(['enabled', 'disabled']) }).nullish(),
    predefined_agents: z
      .array(z.union([agentReferenceSchema, selfSchema]))
      .max(20)
      .nullish(),
  }),
  disabledSchema,
]);
const multiagent20261001Schema = z.object({
  type: z.literal('multiagent_20261001'),
  advisor: z
    .discriminatedUnion('type', [z.object({ type: z.literal('enabled'), model: advisorModel }), disabledSchema])
    .nullish(),
  subagents: memberSchema.nullish(),
  workflows: memberSchema.nullish(),
});

export const multiagentSchema = z.discriminatedUnion('type', [coordinatorSchema, multiagent20261001Schema]);
export type MultiagentMemberBody = z.infer<typeof memberSchema>;

export const agentCreateSchema = z.object({
  name: z.string().min(1).max(256),
  model: modelSchema,
  description: z.string().max(2048).nullish(),
  system: z.string().max(100_000).nullish(),
  tools: z.array(agentToolSchema).max(128).optional(),
  mcp_servers: z.array(mcpServerSchema).max(20).optional(),
  skills: z.array(skillSchema).max(20).optional(),
  metadata: metadataSchema.optional(),
  limits: limitsSchema.optional(),
  multiagent: multiagentSchema.nullish(),
  harness: harnessSchema.optional(),
});

export const agentUpdateSchema = z.object({
  version: z.number().int().min(1).max(2_147_483_647).optional(),
  name: z.string().min(1).max(256).optional(),
  model: modelSchema.optional(),
  description: z.string().max(2048).nullish(),
  system: z.string().max(100_000).nullish(),
  tools: z.array(agentToolSchema).max(128).nullish(),
  mcp_servers: z.array(mcpServerSchema).max(20).nullish(),
  skills: z.array(skillSchema).max(20).nullish(),
  metadata: metadataPatchSchema.nullish(),
  limits: limitsSchema.nullish(),
  multiagent: multiagentSchema.nullish(),
  harness: harnessSchema.nullish(),
});

export type AgentCreateBody = z.infer<typeof agentCreateSchema>;
export type AgentUpdateBody = z.infer<typeof agentUpdateSchema>;
export type AgentToolBody = z.infer<typeof agentToolSchema>;
export type MultiagentBody = z.infer<typeof multiagentSchema>;

export const modelOutputSchema = z.object({
  id: z.string(),
  speed: z.enum(['standard', 'fast']).optional(),
  provider: z.enum(['anthropic', 'openai-chat', 'openai-responses']).optional(),
  base_url: z.string().optional(),
});

const toolsDescription =
  'agent_toolset_20260401 or mcp_toolset (resolved: default_config and configs filled), custom or backend tools (agents stored with a retired sub_agent tool show it)';

/** The agent fields a session pins (`session.agent`). */
export const agentSnapshotFields = {
  id: z.string(),
  type: z.literal('agent'),
  version: z.number().int(),
  name: z.string(),
  description: z.string().nullable(),
  system: z.string().nullable(),
  model: modelOutputSchema,
  tools: z.array(z.unknown()).describe(toolsDescription),
  mcp_servers: z.array(z.unknown()),
  skills: z.array(z.unknown()),
  limits: limitsSchema.optional(),
  multiagent: z
    .union([
      z.object({
        type: z.literal('coordinator'),
        agents: z.array(z.unknown()),
        advisor: z.object({ model: z.string() }).optional(),
        subagents: z.literal(false).optional(),
        inline_agents: z.literal(true).optional(),
        workflow_runs: z.literal(false).optional(),
      }),
      z.looseObject({ type: z.literal('multiagent_20261001') }),
    ])
    .nullable()
    .optional()
    .describe(
      'coordinator (a roster of versioned agent references and an advisor) or multiagent_20261001 (advisor, ' +
        'subagents, workflows); on a session: the coordinator form with every agent pinned',
    ),
  harness: harnessSchema.optional(),
};

export const agentSchema = z
  .object({
    ...agentSnapshotFields,
    metadata: z.record(z.string(), z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    archived_at: z.string().nullable(),
  })
  .meta({ id: 'Agent' });
