// The running-session count behind the max_running_sessions quota: reused for a moment only while the tenant stays
// within half its limit (counting every session admitted on it), asked again near the limit, after the moment, or after
// a refusal.
import { describe, expect, it } from 'vitest';
import { RunningSessionCounter } from '../../api/running-sessions.ts';

describe('RunningSessionCounter', () => {
  it('reuses a count far under the limit, adding the sessions admitted since', async () => {
    let now = 0;
    let running = 3;
    const asked: string[] = [];
    const counter = new RunningSessionCounter(
      async (tenantId, sessionId) => {
        asked.push(`${tenantId}/${sessionId}`);
        return running;
      },
      { reuseMs: 1_000, now: () => now },
    );
    expect(await counter.admit('t1', 's1', 12)).toEqual({ admitted: true, count: 3 });
    expect(await counter.admit('t1', 's2', 12)).toEqual({ admitted: true, count: 4 }); // 3 + 1 admitted + 1 ≤ 6
    expect(await counter.admit('t1', 's3', 12)).toEqual({ admitted: true, count: 5 });
    expect(asked).toEqual(['t1/s1']);
    // 3 + 3 admitted + 1 > 6: asked again
    running = 6;
    expect(await counter.admit('t1', 's4', 12)).toEqual({ admitted: true, count: 6 });
    expect(asked).toEqual(['t1/s1', 't1/s4']);
    // another tenant has its own count
    expect(await counter.admit('t2', 's5', 12)).toEqual({ admitted: true, count: 6 });
    expect(asked).toHaveLength(3);
    // after the moment the count is taken again
    running = 0;
    now += 1_000;
    expect(await counter.admit('t2', 's6', 12)).toEqual({ admitted: true, count: 0 });
    expect(asked).toEqual(['t1/s1', 't1/s4', 't2/s5', 't2/s6']);
  });

  it('asks on every message at a small limit, and after a refusal', async () => {
    let running = 0;
    let asked = 0;
    const counter = new RunningSessionCounter(async () => {
      asked++;
      return running;
    });
    expect((await counter.admit('t', 'a', 1)).admitted).toBe(true);
    running = 1;
    expect(await counter.admit('t', 'b', 1)).toEqual({ admitted: false, count: 1 });
    expect(await counter.admit('t', 'b', 2)).toEqual({ admitted: true, count: 1 });
    running = 2;
    expect(await counter.admit('t', 'c', 2)).toEqual({ admitted: false, count: 2 });
    expect(asked).toBe(4);
  });
});
