// Who may reach the operator endpoints (the codec server, /metrics): with a token configured, only a caller sending it
// as `Authorization: Bearer`; without one, only loopback callers (development). They are the platform's, not a
// tenant's, so API keys do not open them.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const loopback = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function operatorAuthorizer(token: string | undefined): (request: IncomingMessage) => boolean {
  if (token) {
    const expected = Buffer.from(`Bearer ${token}`);
    return (request) => {
      const presented = Buffer.from(request.headers.authorization ?? '');
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    };
  }
  return (request) => loopback.has(request.socket.remoteAddress ?? '');
}
