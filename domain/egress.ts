// Egress rules shared by the API (which pins an environment's networking into the session), the sandbox activities
// (which set up the proxy) and the proxy itself (which decides every connection). Pure: hosts in, verdicts out.

/** The environment's networking as pinned into the session's sandbox spec (the API's `limited` | `unrestricted`). */
export interface EgressPolicy {
  type: 'limited' | 'unrestricted';
  /** Hosts the sandbox may reach: `api.example.com`, `192.0.2.1`, or `*.example.com` (subdomains only). */
  allowedHosts: string[];
  /** Adds the public package registries (packageManagerHosts). */
  allowPackageManagers: boolean;
  /** Adds the hosts of the agent's MCP servers (mcpServerHosts). */
  allowMcpServers: boolean;
  /** Hosts of the agent's MCP server URLs, pinned with the agent; reachable when allowMcpServers. */
  mcpServerHosts: string[];
}

/** What the sandbox activities need to give a container its proxy: the policy and where credentials come from. */
export interface SandboxEgress {
  policy: EgressPolicy;
  /** The session's vaults: their `environment_variable` credentials are substituted by the proxy. */
  vaultIds: string[];
}

/** Public registries `allow_package_managers` opens: PyPI, npm, crates.io, the Go proxy, RubyGems, Debian/Ubuntu. */
export const packageManagerHosts: readonly string[] = [
  'pypi.org',
  'files.pythonhosted.org',
  'registry.npmjs.org',
  'registry.yarnpkg.com',
  'crates.io',
  'index.crates.io',
  'static.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
  'rubygems.org',
  'index.rubygems.org',
  'deb.debian.org',
  'security.debian.org',
  'archive.ubuntu.com',
  'security.ubuntu.com',
];

/** Lower case, no trailing dot, no IPv6 brackets: the form hosts are compared in. */
export function normalizeHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** `*.example.com` matches any subdomain of example.com but not example.com itself; anything else matches exactly. */
export function hostMatches(pattern: string, host: string): boolean {
  const wanted = normalizeHost(pattern);
  const actual = normalizeHost(host);
  if (wanted.startsWith('*.')) return actual.endsWith(wanted.slice(1)) && actual.length > wanted.length - 1;
  return wanted === actual;
}

/** Every host pattern the policy lets the sandbox reach (undefined: everything). */
export function reachablePatterns(policy: EgressPolicy): string[] | undefined {
  if (policy.type === 'unrestricted') return undefined;
  return [
    ...policy.allowedHosts,
    ...(policy.allowPackageManagers ? packageManagerHosts : []),
    ...(policy.allowMcpServers ? policy.mcpServerHosts : []),
  ];
}

export function isHostAllowed(policy: EgressPolicy, host: string): boolean {
  const patterns = reachablePatterns(policy);
  return patterns === undefined || patterns.some((pattern) => hostMatches(pattern, host));
}

/** Whether every host `pattern` can match is reachable under the policy (a wildcard needs an equal or wider one). */
function patternCovered(patterns: string[], pattern: string): boolean {
  const wanted = normalizeHost(pattern);
  return patterns.some((allowed) => {
    const candidate = normalizeHost(allowed);
    if (candidate === wanted) return true;
    if (!candidate.startsWith('*.')) return false;
    const suffix = candidate.slice(1);
    return wanted.endsWith(suffix) && wanted.length > suffix.length;
  });
}

/**
 * The hosts of a credential's `networking.allowed_hosts` that the environment's policy does not let the sandbox
 * reach — the API's `credential_host_unreachable_error`. An `unrestricted` credential (any host) is never unreachable.
 */
export function unreachableCredentialHosts(policy: EgressPolicy, credentialHosts: string[] | undefined): string[] {
  const patterns = reachablePatterns(policy);
  if (patterns === undefined || credentialHosts === undefined) return [];
  return credentialHosts.filter((host) => !patternCovered(patterns, host));
}

/** Whether the secret of a credential scoped to `credentialHosts` (undefined: any host) may go to `host`. */
export function credentialAppliesTo(credentialHosts: string[] | undefined, host: string): boolean {
  return credentialHosts === undefined || credentialHosts.some((pattern) => hostMatches(pattern, host));
}

/**
 * The value the sandbox sees in a credential's environment variable, and the proxy replaces with the secret. It names
 * the credential (ids are not secret) so it is unique and stable across sandboxes of the session.
 */
export const credentialPlaceholder = (credentialId: string): string => `egress-placeholder-${credentialId}`;

/** An `environment_variable` credential whose hosts the environment's policy does not let the sandbox reach. */
export interface CredentialHostUnreachable {
  credentialId: string;
  vaultId: string;
  hosts: string[];
}

/** The verdict the proxy records for one connection or request. */
export type EgressVerdict = 'allowed' | 'denied';

/** One connection (CONNECT tunnel) or plain-HTTP request through a sandbox's proxy, as recorded for the trace. */
export interface EgressRecord {
  startedAt: string;
  endedAt: string | null;
  host: string;
  port: number;
  /** `connect`: a CONNECT tunnel (HTTPS and other TCP); `http`: a plain-HTTP request forwarded by the proxy. */
  kind: 'connect' | 'http';
  verdict: EgressVerdict;
  /** Set when the proxy terminated TLS to substitute credentials. */
  intercepted: boolean;
  /** Why a connection was denied (or failed upstream); never contains a secret. */
  reason: string | null;
  /** Bytes from the sandbox / to the sandbox, as seen on the sandbox's side of the proxy. */
  bytesSent: number;
  bytesReceived: number;
  /** Credentials whose secret was substituted into this connection's requests. */
  credentialIds: string[];
}
