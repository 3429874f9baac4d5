// The guard for every URL a tenant supplies (model base_url, MCP servers, webhooks, repositories): only http(s), and
// only public unicast addresses — loopback, link-local (cloud metadata), private, CGNAT, unique-local, unspecified,
// multicast, reserved and the IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo) are refused unless
// the operator allow-lists their range (AGENTS_PRIVATE_NETWORK_ALLOWLIST). Its fetch connects only to an address it
// has just checked (the connection's own DNS lookup goes through the guard), so a name that resolves to a public
// address at check time and to 127.0.0.1 at connect time (DNS rebinding) gets nowhere; redirects are checked the same
// way because every connection is.
import dns from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { InvalidInputError } from '../domain/errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A tenant-supplied URL the platform will not call. The message names the host, never the whole URL. */
export class UrlRefusedError extends InvalidInputError {
  constructor(message: string) {
    super(message);
    this.name = 'UrlRefusedError';
  }
}

const stripBrackets = (host: string): string => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** Parses `a.b.c.d/n` or `v6::/n` (a bare address counts as its own /32 or /128). */
export function parseCidrList(entries: string[]): Array<[Address, number]> {
  return entries
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      if (entry.includes('/')) return ipaddr.parseCIDR(entry);
      const address = ipaddr.parse(entry);
      return [address, address.kind() === 'ipv4' ? 32 : 128] as [Address, number];
    });
}

export class UrlGuard {
  private readonly allowed: Array<[Address, number]>;
  private agent: Agent | undefined;

  /** `allowedCidrs`: non-public ranges the operator lets tenant URLs reach (tests: `127.0.0.0/8`). */
  constructor(allowedCidrs: string[] = []) {
    this.allowed = parseCidrList(allowedCidrs);
  }

  /** Whether a tenant URL may reach this IP address. */
  isAllowedAddress(text: string): boolean {
    if (!ipaddr.isValid(text)) return false;
    let address: Address = ipaddr.parse(text);
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    if (this.allowed.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits))) {
      return true;
    }
    return address.range() === 'unicast';
  }

  /**
   * Resolves the URL's host and throws UrlRefusedError unless the scheme is http(s) and every address is allowed.
   * `allowUnresolvable`: a name that does not resolve (yet) passes — for checks at configuration time, where the
   * connection is checked again when it is made. `lookupTimeoutMs` bounds the lookup (a slow resolver retries after
   * seconds); a lookup that takes longer counts as unresolved.
   */
  async check(
    url: string | URL,
    options: { allowUnresolvable?: boolean; lookupTimeoutMs?: number } = {},
  ): Promise<void> {
    await this.checkedAddresses(url, options);
  }

  /**
   * check(), returning the addresses it allowed (an IP literal is its own; empty for an unresolvable name passed by
   * `allowUnresolvable`) — for clients that connect on their own (git) and must be pinned to them.
   */
  async checkedAddresses(
    url: string | URL,
    options: { allowUnresolvable?: boolean; lookupTimeoutMs?: number } = {},
  ): Promise<string[]> {
    const parsed = parseUrl(url);
    const host = stripBrackets(parsed.hostname);
    if (isIP(host)) {
      this.assertAllowed(host, [host]);
      return [host];
    }
    const addresses = await resolveAll(host, options.lookupTimeoutMs);
    if (addresses === undefined) {
      if (options.allowUnresolvable) return [];
      throw new UrlRefusedError(`${host} does not resolve`);
    }
    this.assertAllowed(host, addresses);
    return addresses;
  }

  /** fetch() whose every connection (redirects included) is checked at connect time. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' || input instanceof URL ? input : input.url;
    parseUrl(url);
    this.agent ??= this.createAgent();
    const response = await undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: this.agent,
    });
    return response;
  };

  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }

  private assertAllowed(host: string, addresses: string[]): void {
    const refused = addresses.find((address) => !this.isAllowedAddress(address));
    if (addresses.length === 0 || refused !== undefined) {
      throw new UrlRefusedError(
        `${host} resolves to ${refused ?? 'no address'}, which tenant URLs may not reach ` +
          '(loopback, link-local, private and metadata addresses are refused unless the operator allow-lists them)',
      );
    }
  }

  private createAgent(): Agent {
    const lookup: typeof dns.lookup = ((hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
      dns.lookup(hostname, { ...options, all: true }, (error, entries) => {
        if (error) return callback(error, '', 0);
        try {
          this.assertAllowed(
            hostname,
            entries.map((entry) => entry.address),
          );
        } catch (refusal) {
          return callback(refusal as NodeJS.ErrnoException, '', 0);
        }
        if (options.all) return (callback as unknown as AllCallback)(null, entries);
        const first = entries[0]!;
        return callback(null, first.address, first.family);
      });
    }) as typeof dns.lookup;
    const connect = buildConnector({ lookup });
    return new Agent({
      connect: (options, callback) => {
        const host = stripBrackets(options.hostname);
        // An IP literal is connected to without a lookup: check it here.
        if (isIP(host) && !this.isAllowedAddress(host)) {
          callback(new UrlRefusedError(`${host} is not an address tenant URLs may reach`), null);
          return;
        }
        connect(options, callback);
      },
    });
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;
type AllCallback = (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void;

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlRefusedError('not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UrlRefusedError(`scheme ${parsed.protocol} is not allowed (http and https only)`);
  }
  return parsed;
}

async function resolveAll(host: string, timeoutMs?: number): Promise<string[] | undefined> {
  const lookup = dns.promises.lookup(host, { all: true }).then(
    (entries) => entries.map((entry) => entry.address),
    () => undefined,
  );
  if (timeoutMs === undefined) return lookup;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
