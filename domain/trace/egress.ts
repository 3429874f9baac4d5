// The egress section of a session's trace: the connections its sandboxes made through the host's proxy (recorded by
// the proxy in the egress log, not in the event log), as the API hands them over, with totals.
import type { EgressRecord } from '../egress.ts';
import type { EgressTrace } from './schema.ts';

/** `records` oldest first; at most `limit` are listed (the API reads one more to know whether it cut). */
export function buildEgressTrace(records: EgressRecord[], limit: number): EgressTrace | undefined {
  if (records.length === 0) return undefined;
  const listed = records.slice(0, limit);
  const connections = listed.map((record) => ({
    started_at: record.startedAt,
    ended_at: record.endedAt,
    host: record.host,
    port: record.port,
    kind: record.kind,
    verdict: record.verdict,
    intercepted: record.intercepted,
    reason: record.reason,
    bytes_sent: record.bytesSent,
    bytes_received: record.bytesReceived,
    credential_ids: record.credentialIds,
  }));
  return {
    connections,
    totals: {
      allowed: listed.filter((record) => record.verdict === 'allowed').length,
      denied: listed.filter((record) => record.verdict === 'denied').length,
      bytes_sent: listed.reduce((sum, record) => sum + record.bytesSent, 0),
      bytes_received: listed.reduce((sum, record) => sum + record.bytesReceived, 0),
    },
    truncated: records.length > limit,
  };
}
