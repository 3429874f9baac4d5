// Who a codec server caller may read: an operator every payload, a tenant only payloads under its own data keys.
export type CodecAccess = { kind: 'all' } | { kind: 'tenant'; tenantId: string };

/** A payload the caller is not entitled to (another tenant's, or under the platform key); the codec server's 403. */
export class PayloadAccessDenied extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadAccessDenied';
  }
}
