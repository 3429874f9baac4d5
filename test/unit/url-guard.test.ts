// The URL guard: which addresses tenant URLs may reach, and that its fetch checks the address it connects to (names,
// IP literals and redirects alike).
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UrlGuard, UrlRefusedError } from '../../net/url-guard.ts';

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/redirect') {
      response.writeHead(302, { location: `http://127.0.0.1:${port}/` }).end();
      return;
    }
    response.end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
});

describe('addresses', () => {
  const guard = new UrlGuard();
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.100.100.200', // CGNAT (Alibaba metadata)
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1', // NAT64 of 10.0.0.1
    '2002:7f00:1::', // 6to4 of 127.0.0.1
  ])('refuses %s', (address) => {
    expect(guard.isAllowedAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(guard.isAllowedAddress(address)).toBe(true);
  });

  it('allows what the operator allow-lists, and only that', () => {
    const allowing = new UrlGuard(['127.0.0.0/8', 'fd00::/8']);
    expect(allowing.isAllowedAddress('127.0.0.5')).toBe(true);
    expect(allowing.isAllowedAddress('::ffff:127.0.0.5')).toBe(true);
    expect(allowing.isAllowedAddress('fd12::1')).toBe(true);
    expect(allowing.isAllowedAddress('10.0.0.1')).toBe(false);
    expect(allowing.isAllowedAddress('169.254.169.254')).toBe(false);
  });
});

describe('check', () => {
  const guard = new UrlGuard();
  it('refuses other schemes, private literals and names that resolve to them', async () => {
    await expect(guard.check('file:///etc/passwd')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(guard.check('http://[::1]:80/')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(guard.check('http://169.254.169.254/latest/meta-data')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(guard.check('http://localhost:1/')).rejects.toBeInstanceOf(UrlRefusedError);
  });

  it('lets an unresolvable name through only when asked to', async () => {
    await expect(guard.check('https://no-such-host.invalid/')).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(guard.check('https://no-such-host.invalid/', { allowUnresolvable: true })).resolves.toBeUndefined();
  });

  it('counts a lookup still running after lookupTimeoutMs as unresolved', async () => {
    // A resolver that never answers (a lost packet waits out the resolver's own timeout, seconds).
    const lookup = vi.spyOn(dns.promises, 'lookup').mockImplementation(() => new Promise(() => {}));
    try {
      const options = { allowUnresolvable: true, lookupTimeoutMs: 50 };
      await expect(guard.check('https://slow-resolver.example/', options)).resolves.toBeUndefined();
      await expect(guard.check('https://slow-resolver.example/', { lookupTimeoutMs: 50 })).rejects.toBeInstanceOf(
        UrlRefusedError,
      );
    } finally {
      lookup.mockRestore();
    }
  });
});

describe('fetch', () => {
  it('refuses to connect to a private address, by literal or by name', async () => {
    const guard = new UrlGuard();
    try {
      await expect(guard.fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
      // `localhost` passes no pre-check here: the connection's own lookup refuses it (what a rebinding name meets).
      const failure = await guard.fetch(`http://localhost:${port}/`).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(String((failure as Error & { cause?: unknown }).cause)).toMatch(/may not reach/);
    } finally {
      await guard.close();
    }
  });

  it('connects where allow-listed, redirects included', async () => {
    const allowing = new UrlGuard(['127.0.0.0/8']);
    try {
      expect(await (await allowing.fetch(`http://localhost:${port}/`)).text()).toBe('reached');
      expect(await (await allowing.fetch(`http://127.0.0.1:${port}/redirect`)).text()).toBe('reached');
    } finally {
      await allowing.close();
    }
  });
});
