// The flood gate in front of the API: once a key has been refused by a counted rate limit (api/quotas.ts), every
// further request it makes before that limit's window ends is refused here — synchronously, from memory, before
// authentication (no database lookup), before the per-request log lines (one summary line per window instead), and
// before any body is read. A key that keeps sending inside its window (it ignored `retry-after`) has its refusals
// held until the window ends (at most `maxHeldPerKey` at once, beyond that answered at once), so an unpaced client
// is slowed to one request per connection per window: the flood costs the platform and the machine little. Only
// ever used to refuse, never to let a request in: a revoked key is refused all the same.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { presentedKey } from './auth.ts';

export interface GateRefusal {
  message: string;
  /** Whole seconds until the window ends (at least 1): the `retry-after`. */
  retryAfterSeconds: number;
  /** How long to hold the answer (0: answer at once). */
  holdMs: number;
}

interface Closed {
  until: number;
  message: string;
  held: number;
  refused: number;
}

export interface FloodGateOptions {
  maxHeldPerKey?: number;
  /** Told once per closed window, when it ends, how many requests the gate refused in it. */
  onWindowEnd?: (keyHash: string, refused: number, message: string) => void;
  now?: () => number;
}

export class FloodGate {
  private readonly closed = new Map<string, Closed>();
  /** Each request's answer, decided once (the log controller asks before the hooks run, the hook asks again). */
  private readonly decided = new WeakMap<object, { keyHash?: string; refusal?: GateRefusal }>();
  private readonly maxHeldPerKey: number;
  private readonly onWindowEnd: FloodGateOptions['onWindowEnd'];
  private readonly now: () => number;

  constructor(options: FloodGateOptions = {}) {
    this.maxHeldPerKey = options.maxHeldPerKey ?? 16;
    this.onWindowEnd = options.onWindowEnd;
    this.now = options.now ?? Date.now;
  }

  /** A short digest of the presented key, so the gate never holds the secret itself. */
  static digest(key: string): string {
    return createHash('sha256').update(key).digest('base64url').slice(0, 22);
  }

  /** The request's key digest and, when its gate is closed, the refusal; decided once per request. */
  decide(request: { headers: IncomingHttpHeaders }): { keyHash?: string; refusal?: GateRefusal } {
    let decision = this.decided.get(request);
    if (!decision) {
      const key = presentedKey(request);
      const keyHash = key && key.length <= 256 ? FloodGate.digest(key) : undefined;
      decision = { keyHash, refusal: keyHash ? this.check(keyHash) : undefined };
      this.decided.set(request, decision);
    }
    return decision;
  }

  /** Closes the key's gate until its refused window ends (`ttlMs` from now). */
  close(keyHash: string, ttlMs: number, message: string): void {
    const until = this.now() + Math.max(1, ttlMs);
    const current = this.closed.get(keyHash);
    if (current && current.until >= until) return;
    this.closed.set(keyHash, { until, message, held: current?.held ?? 0, refused: current?.refused ?? 0 });
    this.prune();
  }

  /** The refusal for this key now, or undefined when its gate is open (the request goes on to be counted). */
  check(keyHash: string): GateRefusal | undefined {
    const entry = this.closed.get(keyHash);
    if (!entry) return undefined;
    const left = entry.until - this.now();
    if (left <= 0) {
      this.open(keyHash, entry);
      return undefined;
    }
    entry.refused += 1;
    const holdMs = entry.held < this.maxHeldPerKey ? left : 0;
    return { message: entry.message, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)), holdMs };
  }

  /** Counts a held answer until `release` is called (when it is sent, or its connection closed). */
  hold(keyHash: string): () => void {
    const entry = this.closed.get(keyHash);
    if (!entry) return () => undefined;
    entry.held += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.held -= 1;
    };
  }

  private open(keyHash: string, entry: Closed): void {
    this.closed.delete(keyHash);
    if (entry.refused > 0) this.onWindowEnd?.(keyHash, entry.refused, entry.message);
  }

  /** Drops ended windows once the map grows (a flood of many keys cannot grow it without bound). */
  private prune(): void {
    if (this.closed.size < 10_000) return;
    const now = this.now();
    for (const [keyHash, entry] of this.closed) if (entry.until <= now) this.open(keyHash, entry);
  }
}
