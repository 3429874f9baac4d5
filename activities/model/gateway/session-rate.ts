// Requests per session per minute through the model gateway (one gateway process's count; each gateway of a fleet
// counts its own). A sliding window: the starts of the last 60 s.
export class SessionRateLimit {
  private readonly starts = new Map<string, number[]>();
  private readonly perMinute: number;

  /** `perMinute` 0: unlimited. */
  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** Counts a request; returns the seconds to wait when the session is over its rate (the request is not counted). */
  take(sessionId: string, now = Date.now()): number | undefined {
    if (this.perMinute <= 0) return undefined;
    const recent = (this.starts.get(sessionId) ?? []).filter((start) => now - start < 60_000);
    if (recent.length >= this.perMinute) {
      this.starts.set(sessionId, recent);
      return Math.max(1, Math.ceil((60_000 - (now - recent[0]!)) / 1000));
    }
    recent.push(now);
    this.starts.set(sessionId, recent);
    return undefined;
  }
}
