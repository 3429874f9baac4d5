// The flood gate: a key refused by a counted limit is refused from memory until that window ends — held up to the
// window's end while few are held, at once beyond that — and the gate opens again (with one summary) when it ends.
import { describe, expect, it } from 'vitest';
import { FloodGate } from '../../api/flood-gate.ts';

describe('FloodGate', () => {
  it('refuses a closed key until its window ends, holding at most maxHeldPerKey answers', () => {
    let now = 1_000;
    const windows: Array<[string, number]> = [];
    const gate = new FloodGate({ maxHeldPerKey: 2, now: () => now, onWindowEnd: (hash, n) => windows.push([hash, n]) });
    const key = FloodGate.digest('sk-flooder');
    expect(gate.check(key)).toBeUndefined();
    gate.close(key, 700, 'rate limit: this API key may make 2 requests per second');
    now += 200;
    const first = gate.check(key);
    expect(first).toEqual({ message: expect.stringContaining('rate limit'), retryAfterSeconds: 1, holdMs: 500 });
    const releaseFirst = gate.hold(key);
    gate.hold(key);
    expect(gate.check(key)?.holdMs).toBe(0); // two held already: answered at once
    releaseFirst();
    releaseFirst(); // released once only
    expect(gate.check(key)?.holdMs).toBe(500);
    expect(gate.check(FloodGate.digest('sk-other'))).toBeUndefined(); // another key is not touched
    now += 500;
    expect(gate.check(key)).toBeUndefined();
    expect(windows).toEqual([[key, 3]]);
  });

  it('decides a request once, from its x-api-key or bearer token, and never keeps the key itself', () => {
    const gate = new FloodGate();
    const request = { headers: { authorization: 'Bearer sk-flooder' } };
    const open = gate.decide(request);
    expect(open).toEqual({ keyHash: FloodGate.digest('sk-flooder'), refusal: undefined });
    expect(open.keyHash).not.toContain('sk-flooder');
    gate.close(open.keyHash!, 1_000, 'over');
    expect(gate.decide(request).refusal).toBeUndefined(); // the same request keeps its first answer
    expect(gate.decide({ headers: { 'x-api-key': 'sk-flooder' } }).refusal?.message).toBe('over');
    expect(gate.decide({ headers: {} })).toEqual({ keyHash: undefined, refusal: undefined });
  });
});
