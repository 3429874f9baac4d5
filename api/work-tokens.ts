// The per-item `secret` a poll hands a runner: base64url JSON `{sessions_token, api_base_url}`. The sessions token is
// `sk-agents-work.<work id>.<HMAC of the id>`: derived, never stored, checked in constant time, and honoured only while
// its work item is not stopped — it expires with the item. What it grants is decided in api/principal.ts.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const workTokenPrefix = 'sk-agents-work.';

export class WorkTokens {
  private readonly keys: Buffer[];

  /**
   * `secretKey`: the deployment's vault key (base64); tokens are bound to it. `extraKeys` (the vault's extra keys
   * during a rotation) still verify tokens issued under them.
   */
  constructor(secretKey: string, extraKeys: readonly string[] = []) {
    this.keys = [secretKey, ...extraKeys].map((key) =>
      createHmac('sha256', Buffer.from(key, 'base64')).update('work-sessions-token').digest(),
    );
  }

  private mac(workId: string, key = this.keys[0]!): string {
    return createHmac('sha256', key).update(workId).digest('base64url');
  }

  tokenFor(workId: string): string {
    return `${workTokenPrefix}${workId}.${this.mac(workId)}`;
  }

  /** The work id a token stands for, or undefined for anything this deployment did not issue. */
  workIdOf(token: string): string | undefined {
    if (!token.startsWith(workTokenPrefix)) return undefined;
    const [workId, mac] = token.slice(workTokenPrefix.length).split('.');
    if (!workId || !mac) return undefined;
    const given = Buffer.from(mac);
    const matches = this.keys.some((key) => {
      const expected = Buffer.from(this.mac(workId, key));
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    return matches ? workId : undefined;
  }

  secretFor(workId: string, apiBaseUrl: string): string {
    const payload = { sessions_token: this.tokenFor(workId), api_base_url: apiBaseUrl };
    return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  }
}
