// A Docker host's egress: decides which sandboxes go through the proxy, gives each its Unix socket, relay and trust
// store, resolves its `environment_variable` credentials (secrets stay in this process's memory, in the proxy), and
// hands the sandbox only placeholders and proxy settings. The container's labels carry its (non-secret) egress
// settings, so a restarted worker re-attaches a running sandbox on its next tool call.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type pg from 'pg';
import { resolveSessionCredentials } from '../../../db/repositories/vault-secrets.ts';
import type { SecretBox } from '../../../db/repositories/secret-box.ts';
import {
  credentialPlaceholder,
  unreachableCredentialHosts,
  type CredentialHostUnreachable,
  type SandboxEgress,
} from '../../../domain/egress.ts';
import { MisconfiguredError } from '../../../domain/errors.ts';
import type { SandboxOwner, SandboxSpec } from '../../../domain/sandbox.ts';
import { toApplicationFailure } from '../../failures.ts';
import { CertificateIssuer, loadDeploymentCertificateAuthority } from './certificate-authority.ts';
import { EgressProxy } from './egress-proxy.ts';
import { sandboxProxyUrl, startForwarder } from './forwarder.ts';
import { EgressRecorder } from './recorder.ts';
import { redactSecrets, type Substitution } from './substitution.ts';
import { installTrustStore, trustStoreDir, trustStoreFiles } from './trust-store.ts';

/** Docker label holding a container's egress settings (JSON of EgressLabel): never a secret. */
export const egressLabel = 'io.temporal-agents.egress';

interface EgressLabel {
  tenantId: string;
  sessionId: string;
  egress: SandboxEgress;
}

export interface EgressPlan {
  /** The spec to create the container from: `egress` networking when the proxy is needed. */
  spec: SandboxSpec;
  /** Credentials whose hosts the environment's policy does not let the sandbox reach. */
  unreachable: CredentialHostUnreachable[];
}

/** What DockerSandbox asks of the host's egress for a container whose only way out is the proxy. */
export interface EgressHooks {
  containerSettings(
    spec: SandboxSpec,
    owner: SandboxOwner,
  ): { labels: Record<string, string>; mounts: Docker.MountSettings[] };
  /** After start: trust store, proxy registration and socket, relay. */
  attach(containerId: string): Promise<void>;
  /** Before removal: the proxy lets go of the container. */
  detach(containerId: string): Promise<void>;
}

export interface EgressGatewayOptions {
  docker: Docker;
  pool: pg.Pool;
  secretBox: SecretBox;
  /** Folder for the per-sandbox Unix sockets (root only). Keep it short: socket paths are limited to 107 bytes. */
  socketDir: string;
  isAllowedAddress: (address: string) => boolean;
  upstreamCaCertificates?: Buffer;
  onError?: (error: unknown) => void;
}

const credentialHosts = (auth: Record<string, unknown>): string[] | undefined => {
  const networking = auth.networking as { type?: string; allowed_hosts?: string[] } | undefined;
  return networking?.type === 'limited' ? (networking.allowed_hosts ?? []) : undefined;
};

export class EgressGateway implements EgressHooks {
  private readonly options: EgressGatewayOptions;
  private readonly proxy: EgressProxy;
  private readonly recorder: EgressRecorder;
  private readonly issuer: CertificateIssuer;
  private readonly owners = new Map<string, EgressLabel>();
  private readonly attaching = new Map<string, Promise<void>>();

  private constructor(options: EgressGatewayOptions, issuer: CertificateIssuer) {
    this.options = options;
    this.issuer = issuer;
    this.recorder = new EgressRecorder(options.pool, { onError: options.onError });
    this.proxy = new EgressProxy({
      issuer,
      isAllowedAddress: options.isAllowedAddress,
      upstreamCaCertificates: options.upstreamCaCertificates,
      onRecord: (containerId, record) => {
        const owner = this.owners.get(containerId);
        if (owner) this.recorder.add({ tenantId: owner.tenantId, sessionId: owner.sessionId, containerId, record });
      },
    });
  }

  /** Loads (or creates) the deployment's CA and starts the host's proxy. */
  static async start(options: EgressGatewayOptions): Promise<EgressGateway> {
    await mkdir(options.socketDir, { recursive: true, mode: 0o700 });
    const ca = await loadDeploymentCertificateAuthority(options.pool, options.secretBox);
    return new EgressGateway(options, new CertificateIssuer(ca));
  }

  get caCertificatePem(): string {
    return this.issuer.caCertificatePem;
  }

  /** How the session's container is networked, and which of its credentials cannot reach their hosts. */
  async plan(spec: SandboxSpec, owner: SandboxOwner): Promise<EgressPlan> {
    if (!spec.egress) return { spec, unreachable: [] };
    const { policy, vaultIds } = spec.egress;
    const substitutions = await this.substitutions(owner.tenantId, vaultIds);
    const unreachable = substitutions
      .map((item) => ({
        credentialId: item.credentialId,
        vaultId: item.vaultId,
        hosts: unreachableCredentialHosts(policy, item.hosts),
      }))
      .filter((item) => item.hosts.length > 0);
    const proxied = spec.network === 'egress' || substitutions.length > 0;
    return { spec: proxied ? { ...spec, network: 'egress' } : spec, unreachable };
  }

  /** Labels and mounts for an `egress` container (DockerSandbox.create). */
  containerSettings(
    spec: SandboxSpec,
    owner: SandboxOwner,
  ): { labels: Record<string, string>; mounts: Docker.MountSettings[] } {
    const label: EgressLabel = {
      tenantId: owner.tenantId,
      sessionId: owner.sessionId,
      egress: spec.egress ?? noEgress,
    };
    return {
      labels: { [egressLabel]: JSON.stringify(label) },
      // A volume of the container's own, seeded by Docker from the image's certificates, where the CA is added.
      mounts: [{ Type: 'volume', Source: '', Target: trustStoreDir }],
    };
  }

  /** After the container started: its trust store, its proxy registration and socket, its relay. */
  attach(containerId: string, options: { fresh?: boolean } = { fresh: true }): Promise<void> {
    let pending = this.attaching.get(containerId);
    if (!pending) {
      pending = this.doAttach(containerId, options.fresh ?? true).finally(() => this.attaching.delete(containerId));
      this.attaching.set(containerId, pending);
    }
    return pending;
  }

  /** Before a tool call: re-attaches a sandbox this process has not seen (a restarted worker). No-op otherwise. */
  async ensure(containerId: string): Promise<void> {
    if (this.proxy.isOpen(containerId)) return;
    const labels = (await this.options.docker.getContainer(containerId).inspect()).Config.Labels ?? {};
    if (labels[egressLabel]) await this.attach(containerId, { fresh: false });
  }

  /** Environment for every exec in the sandbox: proxy settings, CA bundle paths, credential placeholders. */
  execEnv(containerId: string): Record<string, string> {
    const registration = this.proxy.registration(containerId);
    if (!registration) return {};
    const env: Record<string, string> = {
      HTTP_PROXY: sandboxProxyUrl,
      HTTPS_PROXY: sandboxProxyUrl,
      http_proxy: sandboxProxyUrl,
      https_proxy: sandboxProxyUrl,
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      SSL_CERT_FILE: trustStoreFiles.bundle,
      REQUESTS_CA_BUNDLE: trustStoreFiles.bundle,
      PIP_CERT: trustStoreFiles.bundle,
      NODE_EXTRA_CA_CERTS: trustStoreFiles.ca,
    };
    for (const item of registration.substitutions) env[item.secretName] = item.placeholder;
    return env;
  }

  /** Tool output with the sandbox's secrets masked (they should never get there; this is the backstop). */
  redact(containerId: string, text: string): string {
    const registration = this.proxy.registration(containerId);
    return registration
      ? redactSecrets(
          text,
          registration.substitutions.map((item) => item.secret),
        )
      : text;
  }

  /** Writes the connection records so far (a tool call's own, before its result returns). */
  async flush(): Promise<void> {
    await this.recorder.flush().catch(this.options.onError ?? (() => undefined));
  }

  async detach(containerId: string): Promise<void> {
    await this.proxy.close(containerId);
    this.owners.delete(containerId);
  }

  async stop(): Promise<void> {
    await this.proxy.closeAll();
    await this.recorder.stop();
  }

  /** `fresh`: a container just created (its trust store cannot have the CA yet). */
  private async doAttach(containerId: string, fresh: boolean): Promise<void> {
    const container = this.options.docker.getContainer(containerId);
    const info = await container.inspect();
    const label = JSON.parse(info.Config.Labels?.[egressLabel] ?? 'null') as EgressLabel | null;
    if (!label) throw new Error(`container ${containerId} has no egress settings`);
    const substitutions = await this.substitutions(label.tenantId, label.egress.vaultIds);
    this.owners.set(info.Id, label);
    const relay = async () => {
      await this.proxy.open(info.Id, this.socketPath(info.Id), { policy: label.egress.policy, substitutions });
      await startForwarder({ containerPid: info.State.Pid, socketPath: this.socketPath(info.Id) });
    };
    // Independent: the trust store is files in the container, the relay a socket and a process on the host.
    await Promise.all([installTrustStore(container, this.issuer.caCertificatePem, { fresh }), relay()]);
  }

  private socketPath(containerId: string): string {
    return join(this.options.socketDir, `${containerId.slice(0, 16)}.sock`);
  }

  private async substitutions(tenantId: string, vaultIds: string[]): Promise<Substitution[]> {
    const credentials = await resolveSessionCredentials(this.options.pool, this.options.secretBox, tenantId, vaultIds, {
      type: 'environment_variable',
    });
    const seen = new Set<string>();
    const result: Substitution[] = [];
    for (const credential of credentials) {
      const secretName = String(credential.auth.secret_name);
      // The first vault given wins a name, as in the API.
      if (seen.has(secretName)) continue;
      seen.add(secretName);
      const location = (credential.auth.injection_location ?? {}) as { header?: boolean; body?: boolean };
      result.push({
        credentialId: credential.id,
        vaultId: credential.vaultId,
        secretName,
        placeholder: credentialPlaceholder(credential.id),
        secret: typeof credential.secret.secret_value === 'string' ? credential.secret.secret_value : '',
        hosts: credentialHosts(credential.auth),
        header: location.header ?? true,
        body: location.body ?? false,
      });
    }
    return result;
  }
}

/** The gateway's plan, or the spec as it is on a host without one (an `egress` sandbox cannot be made there). */
export async function planEgress(
  gateway: EgressGateway | undefined,
  spec: SandboxSpec,
  owner: SandboxOwner,
): Promise<EgressPlan> {
  if (gateway) return gateway.plan(spec, owner);
  if (spec.network === 'egress') {
    throw toApplicationFailure(
      new MisconfiguredError(
        'this sandbox host runs no egress proxy, which limited networking with allowed hosts needs',
      ),
    );
  }
  return { spec, unreachable: [] };
}

const noEgress: SandboxEgress = {
  policy: {
    type: 'limited',
    allowedHosts: [],
    allowPackageManagers: false,
    allowMcpServers: false,
    mcpServerHosts: [],
  },
  vaultIds: [],
};
