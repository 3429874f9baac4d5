// The egress proxy of one Docker host: proxy-chain (Apify's forward proxy: HTTP forwarding, CONNECT tunnels, per-request
// decisions) fed by one Unix socket per sandbox, so the socket a connection arrived on says which sandbox — and so which
// policy and credentials — it belongs to; nothing the sandbox sends can claim another identity. Every CONNECT and
// plain-HTTP request is decided against the sandbox's policy and recorded (host, port, bytes, verdict). Hosts without
// substitution are tunnelled untouched (the sandbox's TLS goes end to end); a host some credential applies to is
// intercepted: TLS terminated with a certificate from the deployment's CA, placeholders replaced, sent on upstream.
import type dns from 'node:dns';
import { chmod, rm } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { RequestError, Server as ProxyChainServer, type PrepareRequestFunctionResult } from 'proxy-chain';
import {
  credentialAppliesTo,
  isHostAllowed,
  normalizeHost,
  type EgressPolicy,
  type EgressRecord,
} from '../../../domain/egress.ts';
import type { CertificateIssuer } from './certificate-authority.ts';
import { guardedLookup } from './guarded-lookup.ts';
import { forwardWithSubstitution, writeSubstitutedResponse, type UpstreamOptions } from './interception.ts';
import type { Substitution } from './substitution.ts';

export interface SandboxRegistration {
  policy: EgressPolicy;
  substitutions: Substitution[];
}

export interface EgressProxyOptions {
  issuer: CertificateIssuer;
  /** Whether sandboxes may reach this IP address (public unicast plus the operator's allow-list). */
  isAllowedAddress: (address: string) => boolean;
  /** Extra CA certificates trusted for upstream TLS when the proxy itself connects (intercepted hosts). */
  upstreamCaCertificates?: Buffer;
  onRecord: (sandboxKey: string, record: EgressRecord) => void;
}

interface Tracked {
  key: string;
  socket: net.Socket;
  readAtStart: number;
  writtenAtStart: number;
  startedAt: string;
  kind: EgressRecord['kind'];
  host: string;
  port: number;
  verdict: EgressRecord['verdict'];
  intercepted: boolean;
  reason: string | null;
  credentialIds: Set<string>;
  done: boolean;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class EgressProxy {
  private readonly chain: ProxyChainServer;
  private readonly options: EgressProxyOptions;
  private readonly registrations = new Map<string, SandboxRegistration>();
  private readonly listeners = new Map<string, { server: net.Server; path: string; sockets: Set<net.Socket> }>();
  private readonly sandboxOf = new WeakMap<net.Socket, string>();
  private readonly tracked = new WeakMap<http.IncomingMessage, Tracked>();
  private readonly accounted = new WeakMap<net.Socket, { read: number; written: number }>();

  constructor(options: EgressProxyOptions) {
    this.options = options;
    // Never listens itself: each sandbox's Unix socket hands its connections to the HTTP server.
    this.chain = new ProxyChainServer({
      prepareRequestFunction: ({ request, hostname, port, isHttp }) => this.prepare(request, hostname, port, isHttp),
    });
    this.chain.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      response.once('close', () => this.finish(request)),
    );
  }

  /** Starts (or updates) the sandbox's registration and its Unix socket. */
  async open(key: string, socketPath: string, registration: SandboxRegistration): Promise<void> {
    this.registrations.set(key, registration);
    if (this.listeners.has(key)) return;
    await rm(socketPath, { force: true });
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      // proxy-chain drops sockets without a remote address; a Unix socket has none, so it gets the sandbox's key.
      Object.defineProperty(socket, 'remoteAddress', { value: `sandbox:${key}` });
      this.sandboxOf.set(socket, key);
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      this.chain.server.emit('connection', socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
    this.listeners.set(key, { server, path: socketPath, sockets });
  }

  isOpen(key: string): boolean {
    return this.listeners.has(key);
  }

  /** The sandbox's registration, e.g. to redact its secrets from tool output. */
  registration(key: string): SandboxRegistration | undefined {
    return this.registrations.get(key);
  }

  /** Stops the sandbox's socket and cuts its open connections. */
  async close(key: string): Promise<void> {
    this.registrations.delete(key);
    const listener = this.listeners.get(key);
    if (!listener) return;
    this.listeners.delete(key);
    for (const socket of listener.sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
    await rm(listener.path, { force: true });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((key) => this.close(key)));
  }

  private async prepare(
    request: http.IncomingMessage,
    hostname: string,
    port: number,
    isHttp: boolean,
  ): Promise<PrepareRequestFunctionResult> {
    const key = this.sandboxOf.get(request.socket);
    const registration = key === undefined ? undefined : this.registrations.get(key);
    if (key === undefined || !registration) throw new RequestError('egress proxy: this sandbox has no egress', 403);
    const host = normalizeHost(hostname);
    const entry = this.track(request, key, isHttp ? 'http' : 'connect', host, port);
    if (!isHostAllowed(registration.policy, host)) {
      this.deny(entry, `${host} is not in the environment's allowed hosts`);
    }
    if (net.isIP(host) && !this.options.isAllowedAddress(host)) {
      this.deny(entry, `${host} is not an address sandboxes may reach`);
    }
    const lookup = guardedLookup(this.options.isAllowedAddress, () => {
      entry.verdict = 'denied';
      entry.reason = `${host} resolves to no address sandboxes may reach`;
    });
    const substitutions = registration.substitutions.filter((item) => credentialAppliesTo(item.hosts, host));
    if (substitutions.length === 0) return { dnsLookup: lookup as unknown as typeof dns.lookup };
    entry.intercepted = true;
    const upstream: UpstreamOptions = { lookup, upstreamCaCertificates: this.options.upstreamCaCertificates };
    if (isHttp) {
      const url = new URL(request.url ?? '/');
      const target = { protocol: 'http:' as const, host, port, path: `${url.pathname}${url.search}` };
      return {
        customResponseFunction: async () => {
          try {
            const result = await forwardWithSubstitution(request, target, substitutions, upstream);
            for (const id of result.used) entry.credentialIds.add(id);
            return { statusCode: result.statusCode, headers: result.headers, body: result.body };
          } catch (error) {
            entry.reason = `upstream failed: ${messageOf(error)}`;
            return { statusCode: 502, body: `egress proxy: ${entry.reason}` };
          }
        },
      };
    }
    return { customConnectServer: await this.interceptor(entry, host, port, substitutions, upstream) };
  }

  /** A TLS server for one intercepted CONNECT: the sandbox's requests come out decrypted and are substituted. */
  private async interceptor(
    entry: Tracked,
    host: string,
    port: number,
    substitutions: Substitution[],
    upstream: UpstreamOptions,
  ): Promise<http.Server> {
    const { certificatePem, privateKeyPem } = await this.options.issuer.certificateFor(host);
    const server = https.createServer(
      { cert: certificatePem, key: privateKeyPem, ALPNProtocols: ['http/1.1'] },
      (request, response) => {
        const target = { protocol: 'https:' as const, host, port, path: request.url ?? '/' };
        forwardWithSubstitution(request, target, substitutions, upstream).then(
          (result) => {
            for (const id of result.used) entry.credentialIds.add(id);
            writeSubstitutedResponse(response, result);
          },
          (error: unknown) => {
            entry.reason = `upstream failed: ${messageOf(error)}`;
            response.writeHead(502).end(`egress proxy: ${entry.reason}`);
          },
        );
      },
    );
    server.on('tlsClientError', (error, socket) => {
      entry.reason = `TLS with the sandbox failed: ${error.message}`;
      socket.destroy();
    });
    return server;
  }

  private track(
    request: http.IncomingMessage,
    key: string,
    kind: EgressRecord['kind'],
    host: string,
    port: number,
  ): Tracked {
    const socket = request.socket;
    // A connection's bytes belong to its requests in turn: this one starts where the previous one was accounted.
    const accounted = this.accounted.get(socket) ?? { read: 0, written: 0 };
    const entry: Tracked = {
      key,
      socket,
      readAtStart: accounted.read,
      writtenAtStart: accounted.written,
      startedAt: new Date().toISOString(),
      kind,
      host,
      port,
      verdict: 'allowed',
      intercepted: false,
      reason: null,
      credentialIds: new Set(),
      done: false,
    };
    this.tracked.set(request, entry);
    // A CONNECT owns its socket until it closes; a plain-HTTP request ends with its response (see the constructor).
    if (kind === 'connect') socket.once('close', () => this.finish(request));
    return entry;
  }

  private deny(entry: Tracked, reason: string): never {
    entry.verdict = 'denied';
    entry.reason = reason;
    this.emit(entry);
    throw new RequestError(`egress proxy: ${reason}`, 403);
  }

  private finish(request: http.IncomingMessage): void {
    const entry = this.tracked.get(request);
    if (entry) this.emit(entry);
  }

  private emit(entry: Tracked): void {
    if (entry.done) return;
    entry.done = true;
    this.accounted.set(entry.socket, { read: entry.socket.bytesRead, written: entry.socket.bytesWritten });
    this.options.onRecord(entry.key, {
      startedAt: entry.startedAt,
      endedAt: new Date().toISOString(),
      host: entry.host,
      port: entry.port,
      kind: entry.kind,
      verdict: entry.verdict,
      intercepted: entry.intercepted,
      reason: entry.reason,
      bytesSent: Math.max(0, entry.socket.bytesRead - entry.readAtStart),
      bytesReceived: Math.max(0, entry.socket.bytesWritten - entry.writtenAtStart),
      credentialIds: [...entry.credentialIds],
    });
  }
}
