// How many sessions a tenant runs at once, as the quota on messages asks it (api/quotas.ts): a count in Temporal's
// visibility store, which is eventually consistent anyway. A count well under the limit is reused for a moment, with
// every session admitted since added to it, so a tenant far below its `max_running_sessions` does not pay a visibility
// query on every message that starts an idle session; near the limit (or at a limit of 1 or 2) each such message asks
// Temporal again. Per API process: sessions started through other processes during that moment are not added, which
// can overshoot by at most what the headroom allows, as a burst of starts already could.

/** Counts the tenant's running sessions, leaving out the given session's own workflow. */
export type CountRunningSessions = (tenantId: string, exceptSessionId: string) => Promise<number>;

interface RecentCount {
  count: number;
  at: number;
  /** Sessions admitted on this count since it was taken. */
  admitted: number;
}

const maxTenantsKept = 10_000;

export class RunningSessionCounter {
  private readonly recent = new Map<string, RecentCount>();
  private readonly countRunning: CountRunningSessions;
  private readonly reuseMs: number;
  private readonly now: () => number;

  /** `reuseMs`: how long a count is reused (default 1 s). */
  constructor(countRunning: CountRunningSessions, options: { reuseMs?: number; now?: () => number } = {}) {
    this.countRunning = countRunning;
    this.reuseMs = options.reuseMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether one more running session fits under `max` (and if so it counts as admitted), with the count it was judged
   * on. A recent count is reused only while it and the sessions admitted since, with this one, stay within half of `max`.
   */
  async admit(tenantId: string, sessionId: string, max: number): Promise<{ admitted: boolean; count: number }> {
    const now = this.now();
    const recent = this.recent.get(tenantId);
    if (recent && now - recent.at < this.reuseMs && 2 * (recent.count + recent.admitted + 1) <= max) {
      recent.admitted++;
      return { admitted: true, count: recent.count + recent.admitted - 1 };
    }
    const count = await this.countRunning(tenantId, sessionId);
    this.recent.delete(tenantId);
    if (count >= max) return { admitted: false, count };
    if (this.recent.size >= maxTenantsKept) this.recent.delete(this.recent.keys().next().value ?? '');
    this.recent.set(tenantId, { count, at: now, admitted: 1 });
    return { admitted: true, count };
  }
}
