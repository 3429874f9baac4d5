// DNS for the egress proxy: a name resolves only to addresses the operator lets sandboxes reach (public unicast, plus
// AGENTS_PRIVATE_NETWORK_ALLOWLIST), checked at connect time, so an allowed name that resolves to the host's
// loopback, a private range or a metadata address gets nowhere.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

export class AddressRefusedError extends Error {
  readonly code = 'EGRESS_ADDRESS_REFUSED';
}

export function guardedLookup(
  isAllowedAddress: (address: string) => boolean,
  onRefused?: (host: string) => void,
): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((entry) => isAllowedAddress(entry.address));
      if (allowed.length === 0) {
        onRefused?.(hostname);
        return callback(new AddressRefusedError(`${hostname} resolves to no address sandboxes may reach`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      const first = allowed[0]!;
      callback(null, first.address, first.family);
    });
  };
}
