// Egress at the network layer, on a real Docker engine: a sandbox with `limited` networking reaches its allowed hosts
// only through the host's proxy (plain HTTP, a CONNECT tunnel, TLS interception) and nothing else — not with the proxy
// variables unset, not with a raw TCP connect; an `environment_variable` credential is a placeholder inside, the
// secret arrives at the upstream (the test's own servers on loopback addresses; not 127.0.0.1, which sandboxes keep for their own services: NO_PROXY) and is nowhere in the container.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DockerSandbox } from '../../activities/sandbox/docker-sandbox.ts';
import { sandboxLabels } from '../../activities/sandbox/container-spec.ts';
import {
  CertificateIssuer,
  generateCertificateAuthority,
} from '../../activities/sandbox/egress/certificate-authority.ts';
import { EgressGateway } from '../../activities/sandbox/egress/gateway.ts';
import { listEgressRecords } from '../../db/repositories/egress-log.ts';
import { SecretBox } from '../../db/repositories/secret-box.ts';
import { createTenantWithKey } from '../../db/repositories/tenants.ts';
import { createCredential, createVault } from '../../db/repositories/vaults.ts';
import { developmentVaultKey } from '../../domain/config.ts';
import { UrlGuard } from '../../net/url-guard.ts';
import { credentialPlaceholder, type EgressPolicy } from '../../domain/egress.ts';
import { defaultSandboxSpec, type SandboxOwner, type SandboxSpec } from '../../domain/sandbox.ts';

const docker = new Docker();
const testRunLabels = { [sandboxLabels.managed]: 'true', 'io.temporal-agents.test-run': inject('testRunId') };
const box = new SecretBox(developmentVaultKey);
const guard = new UrlGuard(['127.0.0.0/8']);
const secret = `sk-egress-${randomBytes(12).toString('hex')}`;

interface Received {
  server: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
const servers: Array<http.Server | https.Server> = [];

/** Records what it received and echoes it back (so a secret in the echo would reach the sandbox if not masked). */
function recordAndEcho(name: string) {
  return (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ server: name, headers: request.headers, body });
      response.end(`${name} saw authorization=${request.headers.authorization ?? '-'} body=${body}\n`);
    });
  };
}

async function listen(server: http.Server | https.Server, host: string): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

let pool: pg.Pool;
let gateway: EgressGateway;
let sandbox: DockerSandbox;
let socketDir: string;
let containerId: string;
let owner: SandboxOwner;
let credentialId: string;
let upstreamCaPem: string;
const ports = { http: 0, https: 0, tunnel: 0, denied: 0, anyInterface: 0 };

const policy: EgressPolicy = {
  type: 'limited',
  allowedHosts: ['127.0.0.4', '127.0.0.3'],
  allowPackageManagers: false,
  allowMcpServers: false,
  mcpServerHosts: [],
};

const sh = async (command: string) => {
  const result = await sandbox.exec(containerId, {
    command,
    timeoutMs: 20_000,
    maxOutputBytes: 100_000,
    env: gateway.execEnv(containerId),
  });
  return { ...result, output: gateway.redact(containerId, result.output) };
};

const startGateway = () =>
  EgressGateway.start({
    docker,
    pool,
    secretBox: box,
    socketDir,
    // The upstreams are on loopback, which sandboxes may not reach unless the operator allows it.
    isAllowedAddress: (address) => guard.isAllowedAddress(address),
    upstreamCaCertificates: Buffer.from(upstreamCaPem),
  });

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  const tenant = await createTenantWithKey(pool, 'egress');
  owner = { tenantId: tenant.tenantId, sessionId: `sesn_egress_${randomBytes(4).toString('hex')}` };
  const vault = await createVault(pool, tenant.tenantId, { display_name: 'egress', metadata: {} });
  const credential = await createCredential(pool, box, tenant.tenantId, vault.id, {
    display_name: null,
    metadata: {},
    auth: {
      type: 'environment_variable',
      secret_name: 'API_TOKEN',
      networking: { type: 'limited', allowed_hosts: ['127.0.0.4'] },
      injection_location: { header: true, body: true },
    },
    authKey: 'env:API_TOKEN',
    secret: { secret_value: secret },
  });
  credentialId = credential.id;

  // The test's own upstreams: HTTPS ones with certificates from a CA of the test's.
  const upstreamCa = await generateCertificateAuthority('egress test upstream CA');
  upstreamCaPem = upstreamCa.certificatePem;
  const issuer = new CertificateIssuer(upstreamCa);
  const tlsFor = async (host: string) => {
    const issued = await issuer.certificateFor(host);
    return { cert: issued.certificatePem, key: issued.privateKeyPem };
  };
  ports.http = await listen(http.createServer(recordAndEcho('http')), '127.0.0.4');
  ports.https = await listen(https.createServer(await tlsFor('127.0.0.4'), recordAndEcho('https')), '127.0.0.4');
  ports.tunnel = await listen(https.createServer(await tlsFor('127.0.0.3'), recordAndEcho('tunnel')), '127.0.0.3');
  ports.denied = await listen(http.createServer(recordAndEcho('denied')), '127.0.0.2');
  ports.anyInterface = await listen(http.createServer(recordAndEcho('any-interface')), '0.0.0.0');

  socketDir = await mkdtemp('/tmp/egress-');
  gateway = await startGateway();
  sandbox = new DockerSandbox(docker, { extraLabels: testRunLabels, egress: gateway });
  const spec: SandboxSpec = {
    ...defaultSandboxSpec(inject('sandboxImage')),
    network: 'egress',
    egress: { policy, vaultIds: [vault.id] },
  };
  const planned = await gateway.plan(spec, owner);
  expect(planned.unreachable).toEqual([]);
  containerId = await sandbox.create(planned.spec, owner);
  await sandbox.writeFile(containerId, 'upstream-ca.pem', Buffer.from(upstreamCaPem));
});

afterAll(async () => {
  if (containerId) await sandbox.destroy(containerId);
  await gateway?.stop();
  for (const server of servers) server.close();
  if (socketDir) await rm(socketDir, { recursive: true, force: true });
  await pool?.end();
});

describe('a limited sandbox', () => {
  it('has only loopback, and sees the credential as a placeholder', async () => {
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.NetworkMode).toBe('none');
    const result = await sh('ls /sys/class/net; echo "token=$API_TOKEN"; env | grep -c egress-placeholder');
    expect(result.output).toContain(`token=${credentialPlaceholder(credentialId)}`);
    expect(result.output.trim().split('\n')[0]).toBe('lo');
  });

  it('reaches an allowed host over plain HTTP, the upstream receiving the secret in header and body', async () => {
    const result = await sh(
      `curl -sS -m 10 -H "Authorization: Bearer $API_TOKEN" --data "token=$API_TOKEN" http://127.0.0.4:${ports.http}/`,
    );
    expect(result.exitCode).toBe(0);
    const seen = received.filter((entry) => entry.server === 'http').at(-1);
    expect(seen?.headers.authorization).toBe(`Bearer ${secret}`);
    expect(seen?.body).toBe(`token=${secret}`);
    // The echo came back with the placeholder in place of the secret.
    expect(result.output).toContain(`authorization=Bearer ${credentialPlaceholder(credentialId)}`);
    expect(result.output).not.toContain(secret);
  });

  it('reaches an allowed host over HTTPS through TLS interception, trusting the deployment CA', async () => {
    const result = await sh(`curl -sS -m 10 -H "Authorization: Bearer $API_TOKEN" https://127.0.0.4:${ports.https}/x`);
    expect(result.output).toContain('https saw authorization=Bearer egress-placeholder-');
    expect(result.exitCode).toBe(0);
    expect(received.filter((entry) => entry.server === 'https').at(-1)?.headers.authorization).toBe(`Bearer ${secret}`);
  });

  it('tunnels an allowed host without credentials end to end (its own certificate, not the proxy CA)', async () => {
    const result = await sh(
      `curl -sS -m 10 --cacert /workspace/upstream-ca.pem -H "Authorization: Bearer $API_TOKEN" ` +
        `https://127.0.0.3:${ports.tunnel}/`,
    );
    expect(result.exitCode).toBe(0);
    // Not a credential host: the placeholder is what arrives.
    expect(received.filter((entry) => entry.server === 'tunnel').at(-1)?.headers.authorization).toBe(
      `Bearer ${credentialPlaceholder(credentialId)}`,
    );
  });

  it('is refused any other host, and gets nowhere around the proxy', async () => {
    const before = received.length;
    const denied = await sh(`curl -sS -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.2:${ports.denied}/`);
    expect(denied.output).toContain('403');
    const bypass = await sh(
      [
        `curl -sS -m 5 --noproxy '*' http://127.0.0.2:${ports.denied}/ && echo reached-direct`,
        `env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy curl -sS -m 5 http://127.0.0.4:${ports.http}/ && echo reached-unset`,
        `(exec 3<>/dev/tcp/127.0.0.2/${ports.denied}) && echo reached-raw`,
        `(exec 3<>/dev/tcp/172.17.0.1/${ports.anyInterface}) && echo reached-bridge`,
        `(exec 3<>/dev/tcp/1.1.1.1/443) && echo reached-public`,
        'true',
      ].join('; '),
    );
    expect(bypass.output).not.toContain('reached');
    expect(bypass.output).toContain('Network is unreachable');
    expect(received.length).toBe(before);
  });

  it('has the CA in its trust store, which its user cannot change', async () => {
    const result = await sh(
      'stat -c "%U %a" /etc/ssl/certs/agents-egress-ca.pem; grep -c "BEGIN CERTIFICATE" /etc/ssl/certs/ca-certificates.crt;' +
        ' echo x >> /etc/ssl/certs/ca-certificates.crt || echo refused',
    );
    expect(result.output).toMatch(/^root 644\n/);
    expect(result.output).toContain('refused');
  });

  it('records every connection with host, port, bytes and verdict — and never the secret', async () => {
    await gateway.flush();
    const records = await listEgressRecords(pool, owner.tenantId, owner.sessionId, 1000);
    const find = (port: number) => records.filter((record) => record.port === port);
    expect(find(ports.http)[0]).toMatchObject({
      host: '127.0.0.4',
      kind: 'http',
      verdict: 'allowed',
      intercepted: true,
      credentialIds: [credentialId],
    });
    expect(find(ports.https)[0]).toMatchObject({ kind: 'connect', verdict: 'allowed', intercepted: true });
    expect(find(ports.tunnel)[0]).toMatchObject({ kind: 'connect', verdict: 'allowed', intercepted: false });
    expect(find(ports.denied)[0]).toMatchObject({ host: '127.0.0.2', verdict: 'denied' });
    for (const record of [find(ports.http)[0], find(ports.https)[0], find(ports.tunnel)[0]]) {
      expect(record!.bytesSent).toBeGreaterThan(0);
      expect(record!.bytesReceived).toBeGreaterThan(0);
    }
    const { rows } = await pool.query('select * from sandbox_egress_log where session_id = $1', [owner.sessionId]);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('goes on after a worker restart: the new proxy re-attaches the running sandbox at its next call', async () => {
    // The old process's proxy is gone; the relay inside the container outlives it.
    await gateway.stop();
    gateway = await startGateway();
    sandbox = new DockerSandbox(docker, { extraLabels: testRunLabels, egress: gateway });
    await gateway.ensure(containerId);
    const result = await sh(
      `curl -sS -m 10 -H "Authorization: Bearer $API_TOKEN" http://127.0.0.4:${ports.http}/again`,
    );
    expect(result.exitCode).toBe(0);
    expect(received.filter((entry) => entry.server === 'http').at(-1)?.headers.authorization).toBe(`Bearer ${secret}`);
    const relays = await sh('ps -eo user,comm | grep -c "^root *socat"');
    expect(relays.output.trim()).toBe('1');
  });

  it('leaves no trace of the secret in the container: environment, root filesystem, /workspace, /tmp', async () => {
    const env = await sh('env');
    expect(env.output).not.toContain(secret);
    const exported = await collect(await docker.getContainer(containerId).export());
    expect(exported.includes(Buffer.from(secret))).toBe(false);
    const workspace = await collect(await docker.getContainer(containerId).getArchive({ path: '/workspace' }));
    expect(workspace.includes(Buffer.from(secret))).toBe(false);
    const certs = await collect(await docker.getContainer(containerId).getArchive({ path: '/etc/ssl/certs' }));
    expect(certs.includes(Buffer.from(secret))).toBe(false);
    const tmp = await sandbox.runProcess(containerId, {
      argv: ['tar', '-C', '/tmp', '-cf', '-', '.'],
      maxBytes: 50_000_000,
    });
    expect(tmp.stdout.includes(Buffer.from(secret))).toBe(false);
  });

  it('redacts a secret that reaches tool output some other way', () => {
    expect(gateway.redact(containerId, `leaked ${secret} here`)).toBe('leaked [redacted] here');
  });
});

describe('planning', () => {
  it('reports a credential whose hosts the environment does not allow, and proxies sandboxes with credentials', async () => {
    const vault = await createVault(pool, owner.tenantId, { display_name: 'elsewhere', metadata: {} });
    const elsewhere = await createCredential(pool, box, owner.tenantId, vault.id, {
      display_name: null,
      metadata: {},
      auth: {
        type: 'environment_variable',
        secret_name: 'OTHER_TOKEN',
        networking: { type: 'limited', allowed_hosts: ['api.elsewhere.example', '127.0.0.4'] },
        injection_location: { header: true, body: false },
      },
      authKey: 'env:OTHER_TOKEN',
      secret: { secret_value: 'other-secret' },
    });
    const spec: SandboxSpec = { ...defaultSandboxSpec('x'), network: 'none', egress: { policy, vaultIds: [vault.id] } };
    const planned = await gateway.plan(spec, owner);
    expect(planned.spec.network).toBe('egress');
    expect(planned.unreachable).toEqual([
      { credentialId: elsewhere.id, vaultId: vault.id, hosts: ['api.elsewhere.example'] },
    ]);
    const unrestricted = await gateway.plan(
      { ...spec, network: 'bridge', egress: { policy: { ...policy, type: 'unrestricted' }, vaultIds: [] } },
      owner,
    );
    expect(unrestricted).toMatchObject({ spec: { network: 'bridge' }, unreachable: [] });
    // Unrestricted, but with credentials to substitute: through the proxy, every host allowed, none unreachable.
    const withCredentials = await gateway.plan(
      { ...spec, network: 'bridge', egress: { policy: { ...policy, type: 'unrestricted' }, vaultIds: [vault.id] } },
      owner,
    );
    expect(withCredentials).toMatchObject({ spec: { network: 'egress' }, unreachable: [] });
  });
});

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
