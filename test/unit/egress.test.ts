// Egress rules (domain/egress.ts), the environment → sandbox network mapping (api/egress-policy.ts), the address
// placeholder substitution of the proxy: pure code, no network.
import { describe, expect, it } from 'vitest';
import {
  redactSecrets,
  restorePlaceholders,
  substituteBody,
  substituteHeaders,
  type Substitution,
} from '../../activities/sandbox/egress/substitution.ts';
import { egressPolicyOf, sandboxNetwork } from '../../api/egress-policy.ts';
import {
  credentialAppliesTo,
  hostMatches,
  isHostAllowed,
  unreachableCredentialHosts,
  type EgressPolicy,
} from '../../domain/egress.ts';

const limited = (allowedHosts: string[], extra: Partial<EgressPolicy> = {}): EgressPolicy => ({
  type: 'limited',
  allowedHosts,
  allowPackageManagers: false,
  allowMcpServers: false,
  mcpServerHosts: [],
  ...extra,
});

describe('host rules', () => {
  it('matches exactly, and *.domain only on subdomains', () => {
    expect(hostMatches('api.example.com', 'API.example.com.')).toBe(true);
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(hostMatches('192.0.2.1', '192.0.2.1')).toBe(true);
  });

  it('allows the policy hosts, package registries and MCP server hosts only when switched on', () => {
    expect(isHostAllowed(limited(['a.test']), 'a.test')).toBe(true);
    expect(isHostAllowed(limited(['a.test']), 'pypi.org')).toBe(false);
    expect(isHostAllowed(limited([], { allowPackageManagers: true }), 'pypi.org')).toBe(true);
    expect(isHostAllowed(limited([], { mcpServerHosts: ['mcp.test'] }), 'mcp.test')).toBe(false);
    expect(isHostAllowed(limited([], { allowMcpServers: true, mcpServerHosts: ['mcp.test'] }), 'mcp.test')).toBe(true);
    expect(isHostAllowed({ ...limited([]), type: 'unrestricted' }, 'anything.test')).toBe(true);
  });

  it("finds a credential's hosts the environment cannot reach (a wildcard needs an equal or wider one)", () => {
    const policy = limited(['api.a.test', '*.b.test']);
    expect(unreachableCredentialHosts(policy, ['api.a.test', 'x.b.test', '*.y.b.test', '*.a.test', 'b.test'])).toEqual([
      '*.a.test',
      'b.test',
    ]);
    expect(unreachableCredentialHosts(policy, undefined)).toEqual([]);
    expect(unreachableCredentialHosts({ ...policy, type: 'unrestricted' }, ['z.test'])).toEqual([]);
    expect(credentialAppliesTo(['*.b.test'], 'x.b.test')).toBe(true);
    expect(credentialAppliesTo(['*.b.test'], 'api.a.test')).toBe(false);
    expect(credentialAppliesTo(undefined, 'api.a.test')).toBe(true);
  });
});

describe('environment networking → sandbox network', () => {
  it('is none with nothing allowed, egress with an allow-list, bridge when unrestricted', () => {
    expect(sandboxNetwork(egressPolicyOf({ type: 'limited' }, []), [])).toEqual({ network: 'none' });
    expect(sandboxNetwork(egressPolicyOf({ type: 'unrestricted' }, []), [])).toEqual({ network: 'bridge' });
    const allowList = sandboxNetwork(egressPolicyOf({ type: 'limited', allowed_hosts: ['a.test'] }, []), []);
    expect(allowList).toMatchObject({ network: 'egress', egress: { policy: { allowedHosts: ['a.test'] } } });
    // Vaults may hold credentials the proxy substitutes: the activities decide, so the settings go along.
    expect(sandboxNetwork(egressPolicyOf(undefined, []), ['vlt_1'])).toMatchObject({
      network: 'none',
      egress: { vaultIds: ['vlt_1'] },
    });
  });

  it("takes the MCP servers' hosts from the agent", () => {
    const policy = egressPolicyOf({ type: 'limited', allow_mcp_servers: true }, [{ url: 'https://mcp.test/sse' }, {}]);
    expect(policy.mcpServerHosts).toEqual(['mcp.test']);
    expect(sandboxNetwork(policy, []).network).toBe('egress');
  });
});

describe('substitution', () => {
  const substitution: Substitution = {
    credentialId: 'vcrd_1',
    vaultId: 'vlt_1',
    secretName: 'TOKEN',
    placeholder: 'egress-placeholder-vcrd_1',
    secret: 'sëcret-value',
    hosts: undefined,
    header: true,
    body: false,
  };

  it('replaces placeholders in headers and, when allowed, in bodies; masks secrets coming back', () => {
    const { headers, used } = substituteHeaders({ authorization: 'Bearer egress-placeholder-vcrd_1' }, [substitution]);
    expect(headers.authorization).toBe('Bearer sëcret-value');
    expect([...used]).toEqual(['vcrd_1']);
    const body = Buffer.from('{"t":"egress-placeholder-vcrd_1"}');
    expect(substituteBody(body, [substitution], new Set()).toString()).toBe(body.toString());
    expect(substituteBody(body, [{ ...substitution, body: true }], new Set()).toString()).toBe('{"t":"sëcret-value"}');
    expect(restorePlaceholders(Buffer.from('echo sëcret-value'), [substitution]).toString()).toBe(
      'echo egress-placeholder-vcrd_1',
    );
    expect(redactSecrets('a sëcret-value b', ['sëcret-value'])).toBe('a [redacted] b');
  });
});
