// The test harness itself: the shared Temporal dev server, PostgreSQL cluster and Docker engine are real and answer.
import { Connection } from '@temporalio/client';
import Docker from 'dockerode';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { readEvents } from '../../db/repositories/session-events.ts';

describe('test harness services', () => {
  it('Temporal dev server answers with the session search attributes registered', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(attributes.customAttributes)).toEqual(
        expect.arrayContaining(['SessionStatus', 'AgentId', 'TenantId']),
      );
    } finally {
      await connection.close();
    }
  });

  it('PostgreSQL accepts a query and has the migrated schema', async () => {
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public'",
      );
      expect(rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(['sessions', 'tenants']));
      expect(await readEvents(client, 'sesn_none')).toEqual([]); // the event log's table is there too
    } finally {
      await client.end();
    }
  });

  it('Docker runs a container from the sandbox image as a non-root user', async () => {
    const docker = new Docker();
    const container = await docker.createContainer({
      Image: inject('sandboxImage'),
      Cmd: ['id', '-u'],
      Labels: { 'io.temporal-agents.managed': 'true', 'io.temporal-agents.test-run': inject('testRunId') },
      HostConfig: { NetworkMode: 'none', AutoRemove: false },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
      expect(StatusCode).toBe(0);
      expect(logs).toContain('1000');
    } finally {
      await container.remove({ force: true });
    }
  });
});
