// The egress log: every connection a sandbox made through its host's proxy (host, port, bytes, verdict), written by the
// sandbox worker's proxy and read by the session's trace. Never holds a secret: hosts, counts and credential ids.
import type pg from 'pg';
import type { EgressRecord } from '../../domain/egress.ts';

export interface EgressLogEntry {
  tenantId: string;
  sessionId: string;
  containerId: string;
  record: EgressRecord;
}

interface EgressRow {
  started_at: Date;
  ended_at: Date | null;
  host: string;
  port: number;
  kind: EgressRecord['kind'];
  verdict: EgressRecord['verdict'];
  intercepted: boolean;
  reason: string | null;
  bytes_sent: string;
  bytes_received: string;
  credential_ids: string[];
}

/** One statement for a batch. */
export async function insertEgressRecords(pool: pg.Pool, entries: EgressLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const columns = 13;
  const values: unknown[] = [];
  const rows = entries.map((entry, index) => {
    const { record } = entry;
    values.push(
      entry.tenantId,
      entry.sessionId,
      entry.containerId,
      record.startedAt,
      record.endedAt,
      record.host,
      record.port,
      record.kind,
      record.verdict,
      record.intercepted,
      record.reason,
      record.bytesSent,
      record.bytesReceived,
    );
    const base = index * (columns + 1);
    values.push(record.credentialIds);
    const placeholders = Array.from({ length: columns + 1 }, (_, column) => `$${base + column + 1}`);
    return `(${placeholders.join(', ')})`;
  });
  await pool.query(
    `insert into sandbox_egress_log (tenant_id, session_id, container_id, started_at, ended_at, host, port, kind,
       verdict, intercepted, reason, bytes_sent, bytes_received, credential_ids) values ${rows.join(', ')}`,
    values,
  );
}

/** The session's egress records, oldest first (at most `limit`). */
export async function listEgressRecords(
  pool: pg.Pool,
  tenantId: string,
  sessionId: string,
  limit: number,
): Promise<EgressRecord[]> {
  const { rows } = await pool.query<EgressRow>(
    `select started_at, ended_at, host, port, kind, verdict, intercepted, reason, bytes_sent, bytes_received,
       credential_ids from sandbox_egress_log where tenant_id = $1 and session_id = $2 order by id limit $3`,
    [tenantId, sessionId, limit],
  );
  return rows.map((row) => ({
    startedAt: row.started_at.toISOString(),
    endedAt: row.ended_at?.toISOString() ?? null,
    host: row.host,
    port: row.port,
    kind: row.kind,
    verdict: row.verdict,
    intercepted: row.intercepted,
    reason: row.reason,
    bytesSent: Number(row.bytes_sent),
    bytesReceived: Number(row.bytes_received),
    credentialIds: row.credential_ids,
  }));
}

export async function deleteEgressRecords(pool: pg.Pool, tenantId: string, sessionId: string): Promise<void> {
  await pool.query('delete from sandbox_egress_log where tenant_id = $1 and session_id = $2', [tenantId, sessionId]);
}
