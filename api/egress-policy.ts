// An environment's `networking` as the session pins it: the egress policy (domain/egress.ts) and which network the
// sandbox gets — `none` when nothing is reachable, `bridge` for unrestricted, `egress` (the host's proxy) for an
// allow-list. With vaults, the proxy may be needed either way (their `environment_variable` credentials are
// substituted there): the sandbox activities decide at creation, once they know the credentials.
import type { EgressPolicy } from '../domain/egress.ts';
import type { SandboxSpec } from '../domain/sandbox.ts';

interface NetworkingConfig {
  type?: string;
  allowed_hosts?: string[] | null;
  allow_package_managers?: boolean | null;
  allow_mcp_servers?: boolean | null;
}

const hostOf = (server: unknown): string | undefined => {
  const url = (server as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
};

export function egressPolicyOf(networking: unknown, mcpServers: unknown[]): EgressPolicy {
  const config = (networking ?? {}) as NetworkingConfig;
  return {
    type: config.type === 'unrestricted' ? 'unrestricted' : 'limited',
    allowedHosts: config.allowed_hosts ?? [],
    allowPackageManagers: config.allow_package_managers ?? false,
    allowMcpServers: config.allow_mcp_servers ?? false,
    mcpServerHosts: mcpServers.map(hostOf).filter((host): host is string => host !== undefined),
  };
}

export function sandboxNetwork(policy: EgressPolicy, vaultIds: string[]): Pick<SandboxSpec, 'network' | 'egress'> {
  const reachesSomething =
    policy.allowedHosts.length > 0 ||
    policy.allowPackageManagers ||
    (policy.allowMcpServers && policy.mcpServerHosts.length > 0);
  const network = policy.type === 'unrestricted' ? 'bridge' : reachesSomething ? 'egress' : 'none';
  // No egress settings at all when the proxy cannot be needed: such a spec still fits the warm pool's.
  if (network !== 'egress' && vaultIds.length === 0) return { network };
  return { network, egress: { policy, vaultIds } };
}
