// Builds a session workflow's input from what the tenant referenced: the agent version pinned (sub-agents too), the
// environment's sandbox spec, vaults by id only (their secrets are resolved inside activities, never here).
import type pg from 'pg';
import type { AgentRecord } from '../db/repositories/agents.ts';
import type { EnvironmentRecord } from '../db/repositories/environments.ts';
import { modelGatewayUrl, type PlatformConfig } from '../domain/config.ts';
import type { EgressPolicy } from '../domain/egress.ts';
import type { UserEvent } from '../domain/events.ts';
import { defaultSandboxSpec, type SandboxSpec } from '../domain/sandbox.ts';
import { egressPolicyOf, sandboxNetwork } from './egress-policy.ts';
import type {
  EnvironmentPackages,
  EnvironmentSnapshot,
  SessionSettings,
  SessionWorkflowInput,
} from '../domain/session.ts';
import { pinAgent } from './agent-definitions.ts';

interface SandboxExtension {
  image?: string;
  memory_mb?: number;
  cpus?: number;
  pids_limit?: number;
  env?: Record<string, string>;
}

const withHosts = (policy: EgressPolicy, hosts: string[]): EgressPolicy =>
  hosts.length === 0 ? policy : { ...policy, allowedHosts: [...policy.allowedHosts, ...hosts] };

/** The model gateway's host, which an in-sandbox harness's sandbox (Claude Code, Codex) reaches through its egress proxy. */
function harnessHostsOf(agent: AgentRecord, config: PlatformConfig): string[] {
  const gateway = modelGatewayUrl(config);
  const inSandbox = agent.harness?.type === 'claude_agent_sdk' || agent.harness?.type === 'codex';
  if (!inSandbox || !gateway) return [];
  return [new URL(gateway).hostname.replace(/^\[|\]$/g, '')];
}

export function environmentSnapshot(
  environment: EnvironmentRecord,
  config: PlatformConfig,
  vaultIds: string[] = [],
  mcpServers: unknown[] = [],
  /** Hosts the session's harness needs besides the environment's (the model gateway's, for in-sandbox harnesses). */
  harnessHosts: string[] = [],
): EnvironmentSnapshot {
  const base = defaultSandboxSpec(config.AGENTS_SANDBOX_IMAGE);
  const extension = (environment.config.sandbox ?? {}) as SandboxExtension;
  const sandbox: SandboxSpec = {
    image: extension.image ?? base.image,
    memoryMb: extension.memory_mb ?? base.memoryMb,
    cpus: extension.cpus ?? base.cpus,
    pidsLimit: extension.pids_limit ?? base.pidsLimit,
    ...sandboxNetwork(withHosts(egressPolicyOf(environment.config.networking, mcpServers), harnessHosts), vaultIds),
    env: extension.env ?? base.env,
  };
  const packages = environment.config.packages as EnvironmentPackages | undefined;
  const installable: EnvironmentPackages = {};
  for (const manager of ['apt', 'pip', 'npm'] as const) {
    if (packages?.[manager]?.length) installable[manager] = packages[manager];
  }
  return {
    id: environment.id,
    name: environment.name,
    sandbox,
    ...(Object.keys(installable).length > 0 ? { packages: installable } : {}),
    ...(environment.config.type === 'self_hosted' ? { selfHosted: true } : {}),
  };
}

export async function buildSessionInput(options: {
  pool: pg.Pool;
  config: PlatformConfig;
  settings: SessionSettings;
  tenantId: string;
  sessionId: string;
  title: string | null;
  agent: AgentRecord;
  environment: EnvironmentRecord;
  vaultIds: string[];
  initialEvents: UserEvent[];
}): Promise<SessionWorkflowInput> {
  const input: SessionWorkflowInput = {
    sessionId: options.sessionId,
    tenantId: options.tenantId,
    title: options.title,
    agent: await pinAgent(options.pool, options.tenantId, options.agent),
    environment: environmentSnapshot(
      options.environment,
      options.config,
      options.vaultIds,
      options.agent.mcp_servers ?? [],
      harnessHostsOf(options.agent, options.config),
    ),
    vaultIds: options.vaultIds,
    settings: options.settings,
  };
  if (options.initialEvents.length > 0) input.initialEvents = options.initialEvents;
  return input;
}
